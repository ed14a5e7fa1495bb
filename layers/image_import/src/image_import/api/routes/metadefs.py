"""Metadata definitions: /v2/metadefs/namespaces[/{ns}[/objects|properties|tags|resource_types[/{name}]]]
and /v2/metadefs/resource_types. Each route parses the request and makes one call of a metadefs/ module
(imported on first use: the other APIs' cold starts do not pay for them)."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import caller, header, json_body, query
from image_import.api.routes import ports
from image_import.api.views import item_size, page, page_budget, respond
from image_import.settings import get_settings

router = APIGatewayRouter()

NAMESPACES = "/v2/metadefs/namespaces"
NAMESPACE = f"{NAMESPACES}/<namespace>"


def _appending() -> bool:
    """X-Openstack-Append, read as oslo's bool_from_string reads it."""
    return (header("x-openstack-append") or "").strip().lower() in ("1", "t", "true", "on", "y", "yes")


# ---------------------------------------------------------------- namespaces
@router.get(NAMESPACES)
def list_namespaces() -> Response:
    from image_import.metadefs import namespaces

    params = query()
    budget = page_budget("namespaces", params, path=NAMESPACES)  # a page ends before PAGE_BYTES (api/views.py)
    body = namespaces.list_namespaces(caller(), params, get_settings(), ports(), size_of=item_size, budget=budget)
    return respond(200, page("namespaces", body["namespaces"], params, body.get("next"), path=NAMESPACES))


@router.post(NAMESPACES)
def create_namespace() -> Response:
    from image_import.metadefs import namespaces
    from image_import.metadefs.shapes import namespace_href

    document = namespaces.create_namespace(caller(), json_body(), get_settings(), ports())
    return respond(201, document, {"Location": namespace_href(document["namespace"])})


@router.get(NAMESPACE)
def show_namespace(namespace: str) -> Response:
    from image_import.metadefs import namespaces

    return respond(200, namespaces.show_namespace(caller(), unquote(namespace), query(), get_settings(), ports()))


@router.put(NAMESPACE)
def update_namespace(namespace: str) -> Response:
    from image_import.metadefs import namespaces

    return respond(200, namespaces.update_namespace(caller(), unquote(namespace), json_body(), get_settings(), ports()))


@router.delete(NAMESPACE)
def delete_namespace(namespace: str) -> Response:
    from image_import.metadefs import namespaces

    namespaces.delete_namespace(caller(), unquote(namespace), get_settings(), ports())
    return respond(204)


def _delete_contents(namespace: str, kind: str) -> Response:
    from image_import.metadefs import namespaces

    namespaces.delete_contents(caller(), unquote(namespace), kind, get_settings(), ports())
    return respond(204)


@router.delete(f"{NAMESPACE}/objects")
def delete_objects(namespace: str) -> Response:
    return _delete_contents(namespace, "object")


@router.delete(f"{NAMESPACE}/properties")
def delete_properties(namespace: str) -> Response:
    return _delete_contents(namespace, "property")


@router.delete(f"{NAMESPACE}/tags")
def delete_tags(namespace: str) -> Response:
    return _delete_contents(namespace, "tag")


# ---------------------------------------------------------------- objects
@router.get(f"{NAMESPACE}/objects")
def list_objects(namespace: str) -> Response:
    from image_import.metadefs import objects

    return respond(200, objects.list_objects(caller(), unquote(namespace), query(), get_settings(), ports()))


@router.post(f"{NAMESPACE}/objects")
def create_object(namespace: str) -> Response:
    from image_import.metadefs import objects

    return respond(201, objects.create_object(caller(), unquote(namespace), json_body(), get_settings(), ports()))


@router.get(f"{NAMESPACE}/objects/<name>")
def show_object(namespace: str, name: str) -> Response:
    from image_import.metadefs import objects

    return respond(200, objects.show_object(caller(), unquote(namespace), unquote(name), get_settings(), ports()))


@router.put(f"{NAMESPACE}/objects/<name>")
def update_object(namespace: str, name: str) -> Response:
    from image_import.metadefs import objects

    document = objects.update_object(caller(), unquote(namespace), unquote(name), json_body(), get_settings(), ports())
    return respond(200, document)


@router.delete(f"{NAMESPACE}/objects/<name>")
def delete_object(namespace: str, name: str) -> Response:
    from image_import.metadefs import objects

    objects.delete_object(caller(), unquote(namespace), unquote(name), get_settings(), ports())
    return respond(204)


# ---------------------------------------------------------------- properties
@router.get(f"{NAMESPACE}/properties")
def list_properties(namespace: str) -> Response:
    from image_import.metadefs import properties

    return respond(200, properties.list_properties(caller(), unquote(namespace), get_settings(), ports()))


@router.post(f"{NAMESPACE}/properties")
def create_property(namespace: str) -> Response:
    from image_import.metadefs import properties

    document = properties.create_property(caller(), unquote(namespace), json_body(), get_settings(), ports())
    return respond(201, document)


@router.get(f"{NAMESPACE}/properties/<name>")
def show_property(namespace: str, name: str) -> Response:
    from image_import.metadefs import properties

    document = properties.show_property(caller(), unquote(namespace), unquote(name), query(), get_settings(), ports())
    return respond(200, document)


@router.put(f"{NAMESPACE}/properties/<name>")
def update_property(namespace: str, name: str) -> Response:
    from image_import.metadefs import properties

    document = properties.update_property(
        caller(), unquote(namespace), unquote(name), json_body(), get_settings(), ports()
    )
    return respond(200, document)


@router.delete(f"{NAMESPACE}/properties/<name>")
def delete_property(namespace: str, name: str) -> Response:
    from image_import.metadefs import properties

    properties.delete_property(caller(), unquote(namespace), unquote(name), get_settings(), ports())
    return respond(204)


# ---------------------------------------------------------------- tags
@router.get(f"{NAMESPACE}/tags")
def list_tags(namespace: str) -> Response:
    from image_import.metadefs import tags

    return respond(200, tags.list_tags(caller(), unquote(namespace), query(), get_settings(), ports()))


@router.post(f"{NAMESPACE}/tags")
def create_tags(namespace: str) -> Response:
    from image_import.metadefs import tags

    document = tags.create_tags(caller(), unquote(namespace), json_body(), _appending(), get_settings(), ports())
    return respond(201, document)


@router.post(f"{NAMESPACE}/tags/<name>")
def create_tag(namespace: str, name: str) -> Response:
    from image_import.metadefs import tags

    return respond(201, tags.create_tag(caller(), unquote(namespace), unquote(name), get_settings(), ports()))


@router.get(f"{NAMESPACE}/tags/<name>")
def show_tag(namespace: str, name: str) -> Response:
    from image_import.metadefs import tags

    return respond(200, tags.show_tag(caller(), unquote(namespace), unquote(name), get_settings(), ports()))


@router.put(f"{NAMESPACE}/tags/<name>")
def update_tag(namespace: str, name: str) -> Response:
    from image_import.metadefs import tags

    document = tags.update_tag(caller(), unquote(namespace), unquote(name), json_body(), get_settings(), ports())
    return respond(200, document)


@router.delete(f"{NAMESPACE}/tags/<name>")
def delete_tag(namespace: str, name: str) -> Response:
    from image_import.metadefs import tags

    tags.delete_tag(caller(), unquote(namespace), unquote(name), get_settings(), ports())
    return respond(204)


# ---------------------------------------------------------------- resource types
@router.get("/v2/metadefs/resource_types")
def list_resource_types() -> Response:
    from image_import.metadefs import resource_types

    return respond(200, resource_types.list_resource_types(caller(), get_settings(), ports()))


@router.get(f"{NAMESPACE}/resource_types")
def list_associations(namespace: str) -> Response:
    from image_import.metadefs import resource_types

    return respond(200, resource_types.list_associations(caller(), unquote(namespace), get_settings(), ports()))


@router.post(f"{NAMESPACE}/resource_types")
def create_association(namespace: str) -> Response:
    from image_import.metadefs import resource_types

    document = resource_types.create_association(caller(), unquote(namespace), json_body(), get_settings(), ports())
    return respond(201, document)


@router.delete(f"{NAMESPACE}/resource_types/<name>")
def delete_association(namespace: str, name: str) -> Response:
    from image_import.metadefs import resource_types

    resource_types.delete_association(caller(), unquote(namespace), unquote(name), get_settings(), ports())
    return respond(204)
