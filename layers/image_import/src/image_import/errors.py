"""Errors the service reports to users; each carries the HTTP status Glance answers with.

Domain code raises these; the API renders them in Glance's (WebOb's) error format, and the
workflow records their message on the task. The explanation strings follow Glance's where
clients or tests look for them.
"""

from __future__ import annotations


class GlanceError(Exception):
    status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, explanation: str, *, headers: dict[str, str] | None = None):
        super().__init__(explanation)
        self.explanation = explanation
        self.headers = headers or {}


class BadRequest(GlanceError):
    status, title = 400, "Bad Request"


class Unauthorized(GlanceError):
    status, title = 401, "Unauthorized"


class Forbidden(GlanceError):
    status, title = 403, "Forbidden"


class NotFound(GlanceError):
    status, title = 404, "Not Found"


class MethodNotAllowed(GlanceError):
    status, title = 405, "Method Not Allowed"


class Conflict(GlanceError):
    status, title = 409, "Conflict"


class RequestEntityTooLarge(GlanceError):
    status, title = 413, "Request Entity Too Large"


class UnsupportedMediaType(GlanceError):
    status, title = 415, "Unsupported Media Type"


class ServiceUnavailable(GlanceError):
    status, title = 503, "Service Unavailable"


class ImageNotFound(NotFound):
    def __init__(self, image_id: str):
        super().__init__(f"No image found with ID {image_id}")


class UnreadableRecord(Conflict):
    """A stored record the model refuses: a scan leaves it out (and logs it), a read of it is this error."""


class ConcurrentUpdate(Conflict):
    """Someone else changed the record between our read and our conditional write."""


class ImportFailed(Exception):
    """An import step failed in a way the user can act on; the message goes on the task."""


class SourceChanged(Exception):
    """The object a pinned read or copy names is no longer the one it was pinned to (replaced or gone)."""


class PassInterrupted(Exception):
    """A pass of a copy broke off for a reason a retry can mend (S3 or the network failed): the state
    machine runs the pass again from the offset the previous pass recorded."""


class TaskAborted(ImportFailed):
    """The import no longer owns the image (deleted, or its lock was taken over)."""


def check_schema(document: object, schema: dict, name: str, *, with_path: bool = False) -> None:
    """The one schema-to-400: ``document`` against the JSON schema, refused as Glance's InvalidObject,
    "Provided object does not match schema '<name>': <jsonschema's message>"; ``with_path`` adds where
    in the document it failed, `` (at 'a/0/b')`` (the image and task APIs say so; Glance does not).
    jsonschema is imported here, on the first request that validates, so no cold start pays for it."""
    import jsonschema  # type: ignore[import-untyped]

    try:
        jsonschema.validate(document, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(part) for part in exc.absolute_path) if with_path else ""
        raise BadRequest(
            f"Provided object does not match schema '{name}': {exc.message}" + (f" (at '{where}')" if where else "")
        ) from None
