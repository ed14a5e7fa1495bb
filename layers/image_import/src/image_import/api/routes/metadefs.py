"""Metadata definitions: /v2/metadefs/namespaces[/{ns}[/objects|properties|tags|resource_types[/{name}]]]
and /v2/metadefs/resource_types. Each route parses the request and makes one call of metadefs/catalog.py."""

from __future__ import annotations

from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import caller, header, json_body, query
from image_import.api.views import item_size, page, page_budget, respond
from image_import.settings import get_settings

router = APIGatewayRouter()

NAMESPACES = "/v2/metadefs/namespaces"
NAMESPACE = f"{NAMESPACES}/<namespace>"


def metadefs():
    from image_import.metadefs.catalog import Metadefs

    return Metadefs(caller(), get_settings())


def _appending() -> bool:
    """X-Openstack-Append, read as oslo's bool_from_string reads it."""
    return (header("x-openstack-append") or "").strip().lower() in ("1", "t", "true", "on", "y", "yes")


# ---------------------------------------------------------------- namespaces
@router.get(NAMESPACES)
def list_namespaces() -> Response:
    params = query()
    budget = page_budget("namespaces", params, path=NAMESPACES)  # a page ends before PAGE_BYTES (api/views.py)
    body = metadefs().list_namespaces(params, size_of=item_size, budget=budget)
    return respond(200, page("namespaces", body["namespaces"], params, body.get("next"), path=NAMESPACES))


@router.post(NAMESPACES)
def create_namespace() -> Response:
    from image_import.metadefs.catalog import namespace_href

    document = metadefs().create_namespace(json_body())
    return respond(201, document, {"Location": namespace_href(document["namespace"])})


@router.get(NAMESPACE)
def show_namespace(namespace: str) -> Response:
    return respond(200, metadefs().show_namespace(unquote(namespace), query()))


@router.put(NAMESPACE)
def update_namespace(namespace: str) -> Response:
    return respond(200, metadefs().update_namespace(unquote(namespace), json_body()))


@router.delete(NAMESPACE)
def delete_namespace(namespace: str) -> Response:
    metadefs().delete_namespace(unquote(namespace))
    return respond(204)


@router.delete(f"{NAMESPACE}/objects")
def delete_objects(namespace: str) -> Response:
    metadefs().delete_contents(unquote(namespace), "object")
    return respond(204)


@router.delete(f"{NAMESPACE}/properties")
def delete_properties(namespace: str) -> Response:
    metadefs().delete_contents(unquote(namespace), "property")
    return respond(204)


@router.delete(f"{NAMESPACE}/tags")
def delete_tags(namespace: str) -> Response:
    metadefs().delete_contents(unquote(namespace), "tag")
    return respond(204)


# ---------------------------------------------------------------- objects
@router.get(f"{NAMESPACE}/objects")
def list_objects(namespace: str) -> Response:
    return respond(200, metadefs().list_objects(unquote(namespace), query()))


@router.post(f"{NAMESPACE}/objects")
def create_object(namespace: str) -> Response:
    return respond(201, metadefs().create_object(unquote(namespace), json_body()))


@router.get(f"{NAMESPACE}/objects/<name>")
def show_object(namespace: str, name: str) -> Response:
    return respond(200, metadefs().show_object(unquote(namespace), unquote(name)))


@router.put(f"{NAMESPACE}/objects/<name>")
def update_object(namespace: str, name: str) -> Response:
    return respond(200, metadefs().update_object(unquote(namespace), unquote(name), json_body()))


@router.delete(f"{NAMESPACE}/objects/<name>")
def delete_object(namespace: str, name: str) -> Response:
    metadefs().delete_object(unquote(namespace), unquote(name))
    return respond(204)


# ---------------------------------------------------------------- properties
@router.get(f"{NAMESPACE}/properties")
def list_properties(namespace: str) -> Response:
    return respond(200, metadefs().list_properties(unquote(namespace)))


@router.post(f"{NAMESPACE}/properties")
def create_property(namespace: str) -> Response:
    return respond(201, metadefs().create_property(unquote(namespace), json_body()))


@router.get(f"{NAMESPACE}/properties/<name>")
def show_property(namespace: str, name: str) -> Response:
    return respond(200, metadefs().show_property(unquote(namespace), unquote(name), query()))


@router.put(f"{NAMESPACE}/properties/<name>")
def update_property(namespace: str, name: str) -> Response:
    return respond(200, metadefs().update_property(unquote(namespace), unquote(name), json_body()))


@router.delete(f"{NAMESPACE}/properties/<name>")
def delete_property(namespace: str, name: str) -> Response:
    metadefs().delete_property(unquote(namespace), unquote(name))
    return respond(204)


# ---------------------------------------------------------------- tags
@router.get(f"{NAMESPACE}/tags")
def list_tags(namespace: str) -> Response:
    return respond(200, metadefs().list_tags(unquote(namespace), query()))


@router.post(f"{NAMESPACE}/tags")
def create_tags(namespace: str) -> Response:
    return respond(201, metadefs().create_tags(unquote(namespace), json_body(), _appending()))


@router.post(f"{NAMESPACE}/tags/<name>")
def create_tag(namespace: str, name: str) -> Response:
    return respond(201, metadefs().create_tag(unquote(namespace), unquote(name)))


@router.get(f"{NAMESPACE}/tags/<name>")
def show_tag(namespace: str, name: str) -> Response:
    return respond(200, metadefs().show_tag(unquote(namespace), unquote(name)))


@router.put(f"{NAMESPACE}/tags/<name>")
def update_tag(namespace: str, name: str) -> Response:
    return respond(200, metadefs().update_tag(unquote(namespace), unquote(name), json_body()))


@router.delete(f"{NAMESPACE}/tags/<name>")
def delete_tag(namespace: str, name: str) -> Response:
    metadefs().delete_tag(unquote(namespace), unquote(name))
    return respond(204)


# ---------------------------------------------------------------- resource types
@router.get("/v2/metadefs/resource_types")
def list_resource_types() -> Response:
    return respond(200, metadefs().list_resource_types())


@router.get(f"{NAMESPACE}/resource_types")
def list_associations(namespace: str) -> Response:
    return respond(200, metadefs().list_associations(unquote(namespace)))


@router.post(f"{NAMESPACE}/resource_types")
def create_association(namespace: str) -> Response:
    return respond(201, metadefs().create_association(unquote(namespace), json_body()))


@router.delete(f"{NAMESPACE}/resource_types/<name>")
def delete_association(namespace: str, name: str) -> Response:
    metadefs().delete_association(unquote(namespace), unquote(name))
    return respond(204)
