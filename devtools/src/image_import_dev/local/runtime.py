"""In-process Lambda: boto3 ``lambda.invoke`` runs the real handler functions in this process.

botocore lets a ``before-call`` handler answer a request itself. Registered in
``botocore.handlers.BUILTIN_HANDLERS`` it is on every session created afterwards: app code,
the fresh default session ``mock_aws`` makes, and the throw-away client moto's Step Functions
interpreter builds for each Task. Functions the runtime does not know go on to moto/AWS untouched.

Invocations are not serialized: handlers run concurrently on the caller's thread, as in Lambda
(an API request must not wait behind a long workflow step). So nothing here changes
``os.environ`` per invocation; the stack sets one process environment for all functions.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

log = logging.getLogger(__name__)

INVOKE_EVENT = "before-call.lambda.Invoke"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The context object a Python Lambda handler receives (what Powertools reads from it)."""

    function_name: str
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    memory_limit_in_mb: int = 128
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = 3.0
    identity: Any = None
    client_context: Any = None
    _started: float = field(default_factory=time.monotonic, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_seconds - time.monotonic()) * 1000))


@dataclass(frozen=True)
class LocalFunction:
    """A function as the template describes it: where its code is and how to call it."""

    name: str
    code_dir: Path
    handler: str = "app.handler"  # SAM's Handler: "<module path>.<function>"
    timeout: float = 3
    memory_size: int = 128


@dataclass(frozen=True)
class InvokeResult:
    """What Lambda returns: the payload, and "Unhandled" in function_error when the handler raised."""

    payload: bytes
    function_error: str | None = None

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None

    @property
    def error_type(self) -> str | None:
        return self.json().get("errorType") if self.function_error else None

    @property
    def error_message(self) -> str | None:
        return self.json().get("errorMessage") if self.function_error else None


class LambdaRuntimeError(Exception):
    """A failure of the runtime rather than the handler (import, result); ``error_type`` is Lambda's name for it."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def function_name_of(identifier: str) -> str:
    """The function name in any form Lambda accepts: name, name:qualifier, partial or full ARN."""
    parts = identifier.split(":")
    if identifier.startswith("arn:") and len(parts) >= 7:
        return parts[6]
    if len(parts) >= 3 and parts[1] == "function":  # 123456789012:function:name[:qualifier]
        return parts[2]
    return parts[0]


class LambdaRuntime:
    """Registered functions, run in-process when boto3 invokes them."""

    def __init__(self, region: str = "us-east-1", account_id: str = DEFAULT_ACCOUNT_ID):
        self.region, self.account_id = region, account_id
        self.functions: dict[str, LocalFunction] = {}
        self._handlers: dict[str, Handler] = {}
        self._import_lock = threading.Lock()
        self._token = uuid.uuid4().hex[:8]  # module names unique per runtime: every function has an app.py
        self._modules: list[str] = []
        self._sessions: list[Any] = []
        self._installed = False
        # handlers that outran their Timeout: they cannot be stopped, only waited for (tests join them)
        self.timed_out: list[threading.Thread] = []

    # ------------------------------------------------------------------ registry
    def add(self, function: LocalFunction) -> None:
        self.functions[function.name] = function

    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def knows(self, identifier: str) -> bool:
        return function_name_of(identifier) in self.functions

    # ------------------------------------------------------------------ running
    def invoke(self, identifier: str, event: Any) -> InvokeResult:
        """Run the function's handler on this thread and return what Lambda would."""
        function = self.functions[function_name_of(identifier)]
        context = LambdaContext(
            function_name=function.name,
            invoked_function_arn=self.arn(function.name),
            memory_limit_in_mb=function.memory_size,
            log_group_name=f"/aws/lambda/{function.name}",
            log_stream_name=f"local/{self._token}",
            timeout_seconds=function.timeout,
        )
        try:
            result = self._run_with_timeout(function, self._handler(function), event, context)
        except Exception as exc:
            return self._failure(function, context, exc)
        try:
            return InvokeResult(json.dumps(result).encode())
        except (TypeError, ValueError) as exc:  # Lambda cannot serialize the result either
            return self._failure(function, context, LambdaRuntimeError("Runtime.MarshalError", str(exc)))

    def _run_with_timeout(self, function: LocalFunction, handler: Handler, event: Any, context: LambdaContext) -> Any:
        """Lambda's Timeout: past it the invoke fails with Sandbox.Timedout (a thread cannot be killed, so
        the handler runs on until it returns, its result discarded, as a frozen Lambda sandbox's would be)."""
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = handler(event, context)
            except BaseException as exc:  # handed to the caller below
                outcome["error"] = exc

        thread = threading.Thread(target=run, name=f"lambda-{function.name}", daemon=True)
        thread.start()
        thread.join(function.timeout)
        if thread.is_alive():
            self.timed_out.append(thread)
            raise LambdaRuntimeError("Sandbox.Timedout", f"Task timed out after {function.timeout:.2f} seconds")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    def _failure(self, function: LocalFunction, context: LambdaContext, exc: Exception) -> InvokeResult:
        # errorType is what a Step Functions Catch matches on: the exception's class name
        error_type = getattr(exc, "error_type", None) or type(exc).__name__
        log.info("%s raised %s: %s", function.name, error_type, exc)
        envelope = {
            "errorMessage": str(exc),
            "errorType": error_type,
            "requestId": context.aws_request_id,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        return InvokeResult(json.dumps(envelope).encode(), "Unhandled")

    def _handler(self, function: LocalFunction) -> Handler:
        handler = self._handlers.get(function.name)
        if handler is None:
            with self._import_lock:  # import each handler module once, even when first called concurrently
                handler = self._handlers.get(function.name) or self._import(function)
                self._handlers[function.name] = handler
        return handler

    def _import(self, function: LocalFunction) -> Handler:
        module_path, _, attribute = function.handler.rpartition(".")
        source = Path(function.code_dir, *module_path.split(".")).with_suffix(".py")
        if not module_path or not source.is_file():
            raise LambdaRuntimeError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {source}")
        module_name = f"_local_lambda_{self._token}_" + re.sub(r"\W", "_", function.name)
        spec = importlib.util.spec_from_file_location(module_name, source)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[module_name] = module  # dataclasses and pydantic look their module up here
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        except BaseException as exc:
            sys.modules.pop(module_name, None)  # a fixed module loads on the next invoke, as in Lambda
            if isinstance(exc, SyntaxError):
                raise LambdaRuntimeError("Runtime.UserCodeSyntaxError", str(exc)) from exc
            if isinstance(exc, ImportError):
                raise LambdaRuntimeError("Runtime.ImportModuleError", f"Unable to import module: {exc}") from exc
            raise
        self._modules.append(module_name)
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise LambdaRuntimeError(
                "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_path}'"
            )
        return handler

    # ------------------------------------------------------------------ the botocore hook
    def install(self) -> None:
        """Answer ``lambda.invoke`` for our functions in every botocore session from now on."""
        if self._installed:
            return
        self._installed = True
        botocore.handlers.BUILTIN_HANDLERS.append((INVOKE_EVENT, self._on_invoke))
        import boto3

        if boto3.DEFAULT_SESSION is not None:  # sessions copy BUILTIN_HANDLERS when they are made
            boto3.DEFAULT_SESSION.events.register(INVOKE_EVENT, self._on_invoke)
            self._sessions.append(boto3.DEFAULT_SESSION)

    def uninstall(self) -> None:
        """Mandatory between tests: the first hook that answers wins, so a stale one would. Idempotent."""
        self._installed = False  # sessions made meanwhile still call the hook; it now passes everything on
        while (INVOKE_EVENT, self._on_invoke) in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.remove((INVOKE_EVENT, self._on_invoke))
        import boto3

        for session in {id(s): s for s in [*self._sessions, boto3.DEFAULT_SESSION] if s is not None}.values():
            session.events.unregister(INVOKE_EVENT, self._on_invoke)
        self._sessions.clear()
        for name in self._modules:
            sys.modules.pop(name, None)
        self._modules.clear()
        self._handlers.clear()

    @property
    def installed(self) -> bool:
        return self._installed

    def _on_invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        match = re.search(r"/functions/([^/]+)/invocations", params.get("url_path", ""))
        if not self._installed or match is None or not self.knows(unquote(match.group(1))):
            return None  # not ours: the request goes on to moto (or AWS)
        name = function_name_of(unquote(match.group(1)))
        body = params.get("body") or b""
        if hasattr(body, "read"):
            body = body.read()
        try:
            event = json.loads(body) if body else {}
        except ValueError:
            return _error_response(400, "InvalidRequestContentException", "Could not parse request body into json")
        invocation_type = params.get("headers", {}).get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            return _response(204, InvokeResult(b""))
        if invocation_type == "Event":
            threading.Thread(target=self.invoke, args=(name, event), name=f"lambda-{name}", daemon=True).start()
            return _response(202, InvokeResult(b""))
        return _response(200, self.invoke(name, event))


def _metadata(status: int) -> tuple[dict[str, str], dict[str, Any]]:
    headers = {"content-type": "application/json", "x-amzn-requestid": str(uuid.uuid4())}
    meta = {"RequestId": headers["x-amzn-requestid"], "HTTPStatusCode": status, "HTTPHeaders": headers}
    return headers, {**meta, "RetryAttempts": 0}


def _response(status: int, result: InvokeResult) -> tuple[AWSResponse, dict[str, Any]]:
    headers, metadata = _metadata(status)
    parsed: dict[str, Any] = {
        "ResponseMetadata": metadata,
        "StatusCode": status,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(result.payload), len(result.payload)),
    }
    if result.function_error:
        parsed["FunctionError"] = result.function_error
    return AWSResponse("http://local-lambda", status, headers, None), parsed


def _error_response(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    headers, metadata = _metadata(status)
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}
    return AWSResponse("http://local-lambda", status, headers, None), parsed
