"""Errors the service reports to users; each carries the HTTP status Glance answers with.

Domain code raises these; the API renders them in Glance's (WebOb's) error format, and the
workflow records their message on the task. The explanation strings follow Glance's where
clients or tests look for them.
"""

from __future__ import annotations

from typing import Any, ClassVar


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


class StepFailure(Exception):
    """An error an import step raises out of its function, which the state machine sees by name: Lambda
    reports the exception's class name as the error, so ``error_name`` is the class name, and the rendered
    Retry and the revert's wording take the names from these classes (never from strings of their own).

    ``retried``: the state machine runs the step again (a pass, from the offset the previous one recorded);
    ``actionable``: its message says what the user can do, and goes on the task as it is."""

    error_name: ClassVar[str] = "StepFailure"
    retried: ClassVar[bool] = False
    actionable: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_name = cls.__name__


def step_failures() -> list[type[StepFailure]]:
    """Every StepFailure class (depth first, in definition order)."""
    found: list[type[StepFailure]] = []
    pending = list(StepFailure.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending[:0] = cls.__subclasses__()
    return found


def retried_error_names() -> list[str]:
    """The error names the state machine retries a step on (its Retry's own names, beside AWS's)."""
    return [cls.error_name for cls in step_failures() if cls.retried]


def actionable_error_names() -> list[str]:
    """The error names whose message the task shows as it is (``Import failed: <message>``)."""
    return [cls.error_name for cls in step_failures() if cls.actionable]


class ImportFailed(StepFailure):
    """An import step failed in a way the user can act on; the message goes on the task."""

    actionable = True


class SourceChanged(Exception):
    """The object a pinned read or copy names is no longer the one it was pinned to (replaced or gone)."""


class PassInterrupted(StepFailure):
    """A pass of a copy broke off for a reason a retry can mend (S3 or the network failed): the state
    machine runs the pass again from the offset the previous pass recorded (and once its retries did not
    mend it, the task says so as it is)."""

    retried = True
    actionable = True


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
