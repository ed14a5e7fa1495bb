"""Metadata definitions (Glance's ``/v2/metadefs`` API): namespaces with their objects, properties, tags
and resource-type associations. One module per resource (namespaces.py, objects.py, properties.py, tags.py,
resource_types.py), each use case taking the caller, its arguments, the settings and the ports (the
``MetadefRecords`` port: adapters/ports.py); access.py holds visibility and policy, requests.py the request
checks, shapes.py what the API shows, children.py what objects, properties and tags share, schemas.py the
schemas Glance serves, loader.py the import of Glance's namespace files. The namespace record is a model
(models/metadef.py); what it holds stays JSON documents in Glance's shapes."""
