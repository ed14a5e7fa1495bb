"""Metadata definitions (Glance's ``/v2/metadefs`` API): namespaces with their objects, properties, tags
and resource-type associations; catalog.py holds the use cases, access.py visibility and policy,
schemas.py the schemas Glance serves, loader.py the import of Glance's namespace files."""
