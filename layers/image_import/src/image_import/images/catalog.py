"""Image records: create, show, list, delete (Glance's request validation, in its order)."""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from image_import import notifications
from image_import.adapters.ports import Ports
from image_import.errors import (
    BadRequest,
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    RequestEntityTooLarge,
    check_schema,
)
from image_import.images import paging
from image_import.images.schemas import image_schema
from image_import.models import Image, RequestContext, lifecycle
from image_import.models.ids import UUID_FORM, canonical_id
from image_import.models.quota import IMAGE_COUNT_TOTAL, OverLimit
from image_import.models.time import utcnow
from image_import.policy import access
from image_import.policy.protections import may
from image_import.quotas import admission
from image_import.settings import Settings, get_settings
from image_import.stores.buckets import image_buckets
from image_import.transfer.layout import staging_key, store_key, upload_key

# Keys a client may never send (Glance: "Attribute '%s' is read-only.")
DISALLOWED = ("direct_url", "self", "file", "schema", "stores")
READ_ONLY_ON_CREATE = (
    "checksum",
    "size",
    "virtual_size",
    "status",
    "created_at",
    "updated_at",
    "os_hash_algo",
    "os_hash_value",
)
RESERVED = ("location", "deleted", "deleted_at", "locations")
RESERVED_PREFIX = "os_glance"
BASE_FIELDS = frozenset(Image.model_fields) - {
    "properties",
    "import_lock",
    "inspected_as",
    "arriving",
    "version",
    "staged_key",
    "upload",
    "members",
}
MAX_INT = 2**31 - 1  # Glance's min_ram / min_disk columns are INTs
MAX_PROPERTY_NAME = 255  # image_properties.name VARCHAR(255)
MAX_PROPERTY_VALUE = 65535  # image_properties.value TEXT
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at")


def create_image(context: RequestContext, body: Any, settings: Settings, ports: Ports) -> Image:
    if not isinstance(body, dict):
        raise BadRequest("Body expected in request." if body is None else "Unexpected body type. Expected dict.")
    for key in body:
        if key in DISALLOWED or key in READ_ONLY_ON_CREATE:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    validate_against_schema(body, settings)
    if "id" in body and not UUID_FORM.fullmatch(body["id"]):  # the schema's "$" also matches before a final "\n"
        raise BadRequest(f"Provided object does not match schema 'image': {body['id']!r} does not match (at 'id')")
    check_stored_values(body)
    for key in body:
        if key in RESERVED or key.startswith(RESERVED_PREFIX):
            raise Forbidden(f"Attribute '{key}' is reserved.")
    owner = body.get("owner") or context.project_id
    visibility = body.get("visibility") or "shared"
    access.require_may_create(context, owner, visibility, settings)
    known = admission.precheck(settings, ports.usage, owner, (IMAGE_COUNT_TOTAL, 1))  # where Glance checks it
    for key in body:
        if key not in BASE_FIELDS and not may(context, settings, key, "create"):
            raise Forbidden(f"Attribute '{key}' is reserved.")

    base = {k: v for k, v in body.items() if k in BASE_FIELDS}
    extra = {k: v for k, v in body.items() if k not in BASE_FIELDS}
    base.setdefault("id", str(uuid.uuid4()))
    if base.get("tags") is not None:
        base["tags"] = sorted(set(base["tags"]))
        check_tag_quota(base["tags"], settings)
    now = utcnow()
    base.update(owner=owner, visibility=visibility, created_at=now, updated_at=now, status=lifecycle.INITIAL)
    check_property_quota(extra, settings)
    image = Image(**base, properties=extra)
    try:
        ports.images.create(image, claims=admission.for_create(settings, owner, known))  # exact: the write's condition
    except OverLimit as over:
        raise admission.too_large(over) from None
    notifications.image_event("image.create", image, ports, settings)
    return image


def validate_against_schema(body: dict, settings: Settings) -> None:
    check_schema(body, image_schema(settings.disk_formats, settings.container_formats), "image", with_path=True)


def check_stored_values(document: dict[str, Any]) -> None:
    """What Glance's database can hold, checked before anything is stored (400): min_ram and min_disk
    non-negative INTs, custom property names VARCHAR(255) and not empty (DynamoDB refuses an empty
    attribute name), values TEXT (65535). One record that cannot be stored or read would otherwise
    be a 5xx for every list that would include it."""
    for key in ("min_ram", "min_disk"):
        value = document.get(key)
        if value is None:
            continue
        if value < 0:
            raise BadRequest(f"{key} must be a non-negative integer.")
        if value > MAX_INT:
            raise BadRequest(f"'{key}' value out of range, must not exceed {MAX_INT}.")
    for key, value in document.items():
        if key in BASE_FIELDS:
            continue
        if not key:
            raise BadRequest("Custom property name cannot be empty.")
        if len(key) > MAX_PROPERTY_NAME:
            raise BadRequest(f"Custom property should not be greater than {MAX_PROPERTY_NAME} characters.")
        if isinstance(value, str) and len(value) > MAX_PROPERTY_VALUE:
            raise BadRequest(f"Custom property value should not be greater than {MAX_PROPERTY_VALUE} characters.")


def check_tag_quota(tags: list[str] | None, settings: Settings) -> None:
    """Glance's ``image_tag_quota`` (negative: unlimited): 413 beyond it."""
    _check_quota("tags", len(tags or []), settings.image_tag_quota)


def check_property_quota(properties: dict[str, Any], settings: Settings) -> None:
    """Glance's ``image_property_quota`` over the extra properties users set (negative: unlimited).

    The service's own ``os_glance_*`` bookkeeping does not count, so an import never trips it.
    """
    attempted = sum(1 for key in properties if not key.startswith(RESERVED_PREFIX))
    _check_quota("properties", attempted, settings.image_property_quota)


def _check_quota(what: str, attempted: int, quota: int) -> None:
    if 0 <= quota < attempted:
        raise RequestEntityTooLarge(
            f"The limit has been exceeded on the number of allowed image {what}. "
            f"Attempted: {attempted}, Maximum: {quota}"
        )


def get_image(context: RequestContext, image_id: str, ports: Ports, settings: Settings | None = None) -> Image:
    return access.require_visible(context, ports.images.get(image_id), image_id, settings or get_settings())


@dataclass
class ImagePage:
    images: list[Image]
    next_marker: str | None


def list_images(
    context: RequestContext,
    query: dict[str, list[str]],
    settings: Settings,
    ports: Ports,
    size_of: Callable[[Image], int] | None = None,
    budget: int = 0,
) -> ImagePage:
    """GET /v2/images: the page the query asks for, ending at its ``limit`` or, with ``size_of``, before
    the image that would take it past ``budget`` bytes (paging.take); ``next_marker`` goes on from there."""
    access.require_allowed(context, "get_images", settings)
    limit = paging.limit(query, settings)
    marker = paging.single(query, "marker")
    marker = canonical_id(marker) if marker is not None else None  # the id's stored spelling
    sort_key, sort_dir = _sort(query)
    filters = {k: v[-1] for k, v in query.items() if k not in ("limit", "marker", "sort_key", "sort_dir", "sort")}
    tags = set(query.get("tag") or ())  # as Glance: every tag given must be on the image
    filters.pop("tag", None)
    if "changes-since" in filters:
        raise BadRequest('The "changes-since" filter is no longer available on v2.')
    visibility = filters.pop("visibility", None)
    if visibility not in (None, "public", "private", "shared", "community", "all"):
        raise BadRequest(f"Invalid visibility value: {visibility}")
    member_status = filters.pop("member_status", "accepted")
    if member_status not in (*access.MEMBER_STATUSES, "all"):
        raise BadRequest(f"Invalid status: {member_status}")
    hidden = filters.pop("os_hidden", "false").lower()  # as Glance: openstacksdk's find_image sends os_hidden=True
    if hidden not in ("true", "false"):
        raise BadRequest(f"Invalid value '{hidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.")

    def listed(image: Image) -> bool:
        if image.status in ("deleted", "killed") or not access.can_see(context, image, settings, member_status):
            return False
        if visibility is None:
            # as Glance: community images are listed only when asked for, or to their owner
            if image.visibility == "community" and image.owner != context.project_id:
                return False
        elif visibility != "all" and image.visibility != visibility:
            return False
        if image.os_hidden != (hidden == "true"):
            return False
        if not tags <= set(image.tags):
            return False
        return all(matches(image) for matches in predicates)

    # a malformed filter is 400 at once; one on a property the caller may not read matches nothing
    predicates = [_predicate(key, value, context, settings) for key, value in filters.items()]

    descending = sort_dir == "desc"
    if sort_key == "created_at":  # the default: the indexes' own order, read a page at a time from the marker
        after = None
        if marker is not None:
            found = ports.images.get(marker)
            if found is None or not access.can_see(context, found, settings, "all"):
                raise BadRequest(paging.MARKER_NOT_FOUND["Image"].format(marker))
            after = found.list_position
        candidates = filter(listed, _candidates(context, visibility, ports, after, descending))
        return ImagePage(*paging.take(candidates, limit, size_of, budget))
    images = sorted(
        filter(listed, _candidates(context, visibility, ports)),
        key=lambda i: (_sort_value(getattr(i, sort_key)), i.created_at, i.id),
        reverse=descending,
    )
    return ImagePage(*paging.page_after(images, marker, limit, "Image", size_of, budget))


def _candidates(
    context: RequestContext, visibility: str | None, ports: Ports, after: str | None = None, descending: bool = False
) -> Iterator[Image]:
    """The images a list may show, read through the indexes, not the table: what Glance's database
    returns to the caller (policy.access: an admin every image; anyone else the public and community
    images, their project's and those shared with it), narrowed by the visibility asked for; each image
    once, and ``listed`` still decides. In list order (created_at, then id) from just past ``after``: the
    indexes' streams merged, each read only as far as the list goes."""
    if context.is_admin:
        yield from ports.image_index.every(after, descending)
        return
    sources: list[Iterable[Image]] = []
    if context.project_id is not None:
        sources.append(ports.image_index.owned_by(context.project_id, after, descending))
    if visibility in (None, "public", "all"):
        sources.append(ports.image_index.with_visibility("public", after, descending))
    if visibility in ("community", "all"):  # unasked, only the owner's community images are listed
        sources.append(ports.image_index.with_visibility("community", after, descending))
    if context.project_id is not None and visibility in (None, "shared", "all"):
        sources.append(ports.image_index.shared_with(context.project_id, after, descending))
    seen: set[str] = set()
    for image in heapq.merge(*sources, key=lambda i: i.list_position, reverse=descending):
        if image.id not in seen:  # an image in two streams (own and public) comes from both together
            seen.add(image.id)
            yield image


def _sort_value(value: Any) -> tuple:
    # None sorts first, as NULLs do in Glance's database
    return (value is not None, value if value is not None else 0)


def _sort(query: dict[str, list[str]]) -> tuple[str, str]:
    if "sort" in query:
        if "sort_key" in query or "sort_dir" in query:
            raise BadRequest("The 'sort' parameter cannot be combined with 'sort_key' or 'sort_dir'.")
        key, _, direction = query["sort"][-1].split(",")[0].partition(":")
        direction = direction or "desc"
    else:
        key = paging.single(query, "sort_key") or "created_at"
        direction = paging.single(query, "sort_dir") or "desc"
    if key not in SORT_KEYS:
        raise BadRequest(f"Invalid sort key: {key}. It must be one of the following: {', '.join(SORT_KEYS)}.")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    return key, direction


TIME_FILTERS = ("created_at", "updated_at")  # with an operator: eq, neq, lt, lte, gt, gte
LIST_FILTERS = ("name", "id", "status", "container_format", "disk_format")  # eq: or in: a list


def _predicate(key: str, value: str, context: RequestContext, settings: Settings) -> Callable[[Image], bool]:
    """Whether an image passes the filter ``key=value``, as Glance's database query has it; a malformed
    value is refused here, before any image is read, with Glance's message. A filter on a property the
    caller may not read matches no image, as if none had it (unlike Glance, whose list filters in the
    database before protections hide anything: its answer tells right values from wrong ones)."""
    if key == "protected":
        if value not in ("true", "false"):
            raise BadRequest(f"Invalid value '{value}' for 'protected' filter. Valid values are 'true' or 'false'.")
        return lambda image: image.protected == (value == "true")
    if key in ("size_min", "size_max"):
        try:
            bound = int(value)
        except ValueError:
            raise BadRequest("Unable to filter on a range with a non-numeric value.") from None
        if key == "size_min":
            return lambda image: image.size is not None and image.size >= bound
        return lambda image: image.size is not None and image.size <= bound
    if key in TIME_FILTERS:
        op, stamp = paging.split_filter_op(value)
        threshold = paging.parse_isotime(stamp)
        if threshold is None:
            raise BadRequest(f'Bad "{key}" query filter format. Use ISO 8601 DateTime notation.')
        compare = paging.COMPARISONS.get(op)
        if compare is None:
            raise BadRequest("Unable to filter on a unknown operator.")
        return lambda image: compare(paging.parse_isotime(getattr(image, key)), threshold)
    if key in LIST_FILTERS:
        op, operand = paging.split_filter_op(value)
        spelled = canonical_id if key == "id" else str  # ids compare in their stored spelling (models/ids.py)
        if op == "in":
            accepted = {spelled(item) for item in paging.split_in_list(operand)}
            return lambda image: getattr(image, key) in accepted
        if op != "eq":
            raise BadRequest(f"Unable to filter by unknown operator '{op}'.")
        wanted = spelled(operand)
        return lambda image: getattr(image, key) == wanted
    if key in BASE_FIELDS:  # compared as given, no operator (Glance's other columns)
        return lambda image: (actual := getattr(image, key)) is not None and str(actual) == value
    if not may(context, settings, key, "read"):
        return lambda image: False
    return lambda image: image.properties.get(key) == value


DELETE_ATTEMPTS = 5


def delete_image(context: RequestContext, image_id: str, ports: Ports, settings: Settings | None = None) -> None:
    for _ in range(DELETE_ATTEMPTS):
        image = get_image(context, image_id, ports, settings)
        access.authorize(context, "delete_image", image, settings or get_settings())
        if image.protected:
            raise Forbidden(f"Image {image_id} is protected and cannot be deleted.")
        # The record goes first: a running import notices it is gone and reverts its own writes.
        # Conditional on the version just read (and protected false): a PATCH protected=true that
        # lands in between wins, and the loop reads and checks again.
        try:
            ports.images.delete(image_id, expected_version=image.version)
            notifications.image_event("image.delete", image, ports, settings)
            break
        except ConcurrentUpdate:
            continue
    else:
        raise Conflict(f"Image {image_id} kept changing; it was not deleted.")
    # staged data wherever it is: PUT /stage's key, the direct-upload key, and any unfinished multipart upload
    for key in {staging_key(image_id), upload_key(image_id), image.staged_key or staging_key(image_id)}:
        ports.staging.delete(key)
    if image.upload is not None and image.upload.upload_id:
        ports.staging.abort_multipart(upload_key(image_id), image.upload.upload_id)
    for store in image_buckets(image.stores, settings or get_settings(), ports):  # multi-store: every store
        store.delete(store_key(image_id))
