"""In-process Lambda: boto3 ``lambda.invoke`` runs the real handler functions in this process.

botocore lets a ``before-call`` handler answer a request itself. Registered in
``botocore.handlers.BUILTIN_HANDLERS`` it is on every session created afterwards: app code,
the fresh default session ``mock_aws`` makes, and the throw-away client moto's Step Functions
interpreter builds for each Task. Functions the runtime does not know go on to moto/AWS untouched.

Invocations run side by side, as in Lambda: each function has a small pool of sandboxes (at most
``$IMAGE_IMPORT_LOCAL_SANDBOXES``, default ``DEFAULT_SANDBOXES``), made only when calls overlap and
reused warm afterwards; a sandbox takes one event at a time, so module state (the resolver's
``current_event``, the Logger's keys, the caches of settings and boto3 clients) is never shared by
two events. The first sandbox of a function runs on the process's own modules (a test can patch
them); every further one executes its own copies of ``SANDBOX_PACKAGES``, see ``_SandboxImporter``.
Nothing here changes ``os.environ`` per invocation; the stack sets one process environment for all.

Lambda's payload limits on a synchronous invoke hold here too: an event over ``REQUEST_PAYLOAD_LIMIT``
is refused before the handler runs (``RequestTooLarge``: Lambda's 413 RequestEntityTooLargeException),
unless the runtime serves large requests (``$IMAGE_IMPORT_LOCAL_LARGE_REQUESTS``: with a warning, for
local work that stages big images through the API); a result over ``RESPONSE_PAYLOAD_LIMIT`` fails the
invoke with ``Function.ResponseSizeTooLarge``, always.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

log = logging.getLogger(__name__)

INVOKE_EVENT = "before-call.lambda.Invoke"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account

Handler = Callable[[Any, Any], Any]

# What a sandbox has its own copy of (Lambda: a process per sandbox). ``logging`` because Powertools'
# Logger keeps its keys on the handler of a std logger, found by name in logging's registry.
SANDBOX_PACKAGES = ("image_import", "aws_lambda_powertools", "logging")
SANDBOXES_VARIABLE = "IMAGE_IMPORT_LOCAL_SANDBOXES"
# Each extra sandbox costs about 20 MiB RSS (the API's, measured: docs/local-stack.md): small.
DEFAULT_SANDBOXES = 3
# Lambda's limits on a synchronous (RequestResponse) invoke, in bytes: the event as sent (the Invoke
# request's body) and the handler's result as serialized; AWS's own errors name these two numbers
# ("Request must be smaller than 6291456 bytes", "... maximum allowed payload size (6291556 bytes)").
REQUEST_PAYLOAD_LIMIT = 6 * 1024 * 1024
RESPONSE_PAYLOAD_LIMIT = REQUEST_PAYLOAD_LIMIT + 100
LARGE_REQUESTS_VARIABLE = "IMAGE_IMPORT_LOCAL_LARGE_REQUESTS"


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


class RequestTooLarge(LambdaRuntimeError):
    """Lambda refused the invoke itself (HTTP 413): the event is over the request limit; nothing ran."""

    def __init__(self, size: int):
        super().__init__(
            "RequestEntityTooLargeException",
            f"Request must be smaller than {REQUEST_PAYLOAD_LIMIT} bytes for the InvokeFunction operation",
        )
        self.size = size


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

    def __init__(
        self,
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
        sandboxes: int | None = None,
        large_requests: bool | None = None,
    ):
        self.region, self.account_id = region, account_id
        self.functions: dict[str, LocalFunction] = {}
        self.sandboxes = sandboxes_per_function() if sandboxes is None else max(1, sandboxes)
        # events over REQUEST_PAYLOAD_LIMIT: run with a warning (True) or refused as Lambda refuses them
        self.large_requests = large_requests_served() if large_requests is None else large_requests
        self._pools: dict[str, _Pool] = {}
        self._pools_lock = threading.Lock()
        self._importers: list[_SandboxImporter] = []
        # one cold start at a time: they share the process's imports, and two threads importing the same
        # circular package at once meet it partially initialized (Powertools' data_classes did)
        self._import_lock = threading.Lock()
        # a test's stand-in for a function (``runtime._handlers[name] = faulty``): runs outside the pool
        self._handlers: dict[str, Handler] = {}
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
    def invoke(self, identifier: str, event: Any, *, payload_size: int | None = None) -> InvokeResult:
        """Run the function's handler on this thread and return what Lambda would. ``payload_size``: the
        event's bytes as sent, if known (else measured as compact UTF-8 JSON). Raises RequestTooLarge
        for an event over Lambda's limit (unless ``large_requests``): Lambda runs nothing then."""
        function = self.functions[function_name_of(identifier)]
        size = payload_size if payload_size is not None else json_size(event, REQUEST_PAYLOAD_LIMIT)
        if size > REQUEST_PAYLOAD_LIMIT:
            if not self.large_requests:
                raise RequestTooLarge(size)
            log.warning(
                "%s: a %d byte event exceeds Lambda's %d byte request limit; run anyway (%s), AWS refuses it",
                function.name,
                size,
                REQUEST_PAYLOAD_LIMIT,
                LARGE_REQUESTS_VARIABLE,
            )
        context = LambdaContext(
            function_name=function.name,
            invoked_function_arn=self.arn(function.name),
            memory_limit_in_mb=function.memory_size,
            log_group_name=f"/aws/lambda/{function.name}",
            log_stream_name=f"local/{self._token}",
            timeout_seconds=function.timeout,
        )
        stand_in = self._handlers.get(function.name)
        try:
            sandbox = _Sandbox(stand_in) if stand_in else self._acquire(function)
        except Exception as exc:  # it did not import: Lambda's Runtime.* errors
            return self._failure(function, context, exc)
        timed_out = False
        try:
            result = self._run_with_timeout(function, sandbox.handler, event, context)
        except Exception as exc:
            timed_out = getattr(exc, "error_type", None) == "Sandbox.Timedout"
            return self._failure(function, context, exc)
        finally:  # a timed-out sandbox is still busy: Lambda throws it away, a later event gets a new one
            if sandbox.pool is not None:
                sandbox.pool.give_back(sandbox, retire=timed_out)
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:  # Lambda cannot serialize the result either
            return self._failure(function, context, LambdaRuntimeError("Runtime.MarshalError", str(exc)))
        if len(payload) > RESPONSE_PAYLOAD_LIMIT:  # Lambda's words; API Gateway answers such a failure 502
            message = f"Response payload size exceeded maximum allowed payload size ({RESPONSE_PAYLOAD_LIMIT} bytes)."
            return self._failure(function, context, LambdaRuntimeError("Function.ResponseSizeTooLarge", message))
        return InvokeResult(payload)

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

    # ------------------------------------------------------------------ sandboxes
    def _acquire(self, function: LocalFunction) -> _Sandbox:
        """An idle sandbox of the function, a new one if all are busy and the pool has room, else the next freed."""
        with self._pools_lock:
            pool = self._pools.setdefault(function.name, _Pool(self.sandboxes))
        sandbox, number = pool.take()
        if sandbox is not None:
            return sandbox
        try:  # a cold start, outside the pool's lock: warm sandboxes of the function go on meanwhile
            importer = None
            if number > 0:
                importer = _SandboxImporter(f"_local_sandbox_{self._token}_{_name(function.name)}_{number}")
                with self._pools_lock:
                    self._importers.append(importer)
            with self._import_lock:
                return _Sandbox(self._import(function, number, importer), number, pool)
        except BaseException:
            pool.cold_start_failed(number)  # a fixed module loads on the next invoke, as in Lambda
            raise

    def sandboxes_of(self, identifier: str) -> int:
        """How many sandboxes the function has now (idle or busy)."""
        pool = self._pools.get(function_name_of(identifier))
        return pool.live if pool else 0

    def _handler(self, function: LocalFunction) -> Handler:
        """The handler of a free sandbox of the function (for a test's stand-in to wrap)."""
        sandbox = self._acquire(function)
        sandbox.pool.give_back(sandbox)  # type: ignore[union-attr]
        return sandbox.handler

    def _import(self, function: LocalFunction, number: int = 0, importer: _SandboxImporter | None = None) -> Handler:
        module_path, _, attribute = function.handler.rpartition(".")
        source = Path(function.code_dir, *module_path.split(".")).with_suffix(".py")
        if not module_path or not source.is_file():
            raise LambdaRuntimeError("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {source}")
        module_name = f"_local_lambda_{self._token}_{_name(function.name)}" + (f"_{number}" if number else "")
        spec = importlib.util.spec_from_file_location(module_name, source)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        if importer is not None:  # its imports, also those inside functions, come from the sandbox's copies
            module.__builtins__ = importer.builtins  # type: ignore[attr-defined]
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
        with self._pools_lock:
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
        with self._pools_lock:
            for name in [*self._modules, *(name for importer in self._importers for name in importer.names())]:
                sys.modules.pop(name, None)
            self._modules.clear()
            self._importers.clear()
            self._pools.clear()
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
        try:
            return _response(200, self.invoke(name, event, payload_size=len(body)))
        except RequestTooLarge as refused:
            return _error_response(413, refused.error_type, str(refused))


def sandboxes_per_function(environ: Mapping[str, str] = os.environ) -> int:
    """How many events one function runs at once: ``$IMAGE_IMPORT_LOCAL_SANDBOXES``, else the default."""
    raw = environ.get(SANDBOXES_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_SANDBOXES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{SANDBOXES_VARIABLE}={raw!r}: give a whole number of sandboxes per function, 1 or more")
    return int(raw)


def large_requests_served(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether events over Lambda's request limit run anyway: ``$IMAGE_IMPORT_LOCAL_LARGE_REQUESTS`` set to
    1/true/yes; unset or 0/false/no (the default): refused, as on AWS."""
    raw = environ.get(LARGE_REQUESTS_VARIABLE, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ValueError(
        f"{LARGE_REQUESTS_VARIABLE}={raw!r}: give 1 to serve requests over Lambda's 6 MB, 0 to refuse them"
    )


def json_size(value: Any, limit: int) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON, or some number over ``limit`` once it is known to pass it
    (a string longer than the limit is not encoded: a 200 MiB body would cost seconds)."""
    if isinstance(value, str):
        if len(value) > limit:
            return len(value)
        return len(json.dumps(value, ensure_ascii=False).encode())
    if isinstance(value, dict):
        total = 1 + max(0, len(value) - 1) + 1  # braces and commas
        for key, item in value.items():
            total += json_size(str(key), limit) + 1 + json_size(item, limit)
            if total > limit:
                return total
        return total
    if isinstance(value, list | tuple):
        total = 1 + max(0, len(value) - 1) + 1
        for item in value:
            total += json_size(item, limit)
            if total > limit:
                return total
        return total
    return len(json.dumps(value))


def _name(function_name: str) -> str:
    return re.sub(r"\W", "_", function_name)


@dataclass
class _Sandbox:
    """One execution environment: its handler, which takes one event at a time."""

    handler: Handler
    number: int = -1  # 0 runs on the process's modules; -1 is a test's stand-in, outside any pool
    pool: _Pool | None = field(default=None, repr=False)  # where it goes back to (not a later runtime's)


class _Pool:
    """A function's sandboxes: at most ``size``, the idle ones reused, the lowest number first."""

    def __init__(self, size: int):
        self.size = size
        self.idle: list[_Sandbox] = []
        self.live = 0  # idle, busy or starting
        self.numbers: set[int] = set()  # of the live ones
        self._changed = threading.Condition()

    def take(self) -> tuple[_Sandbox | None, int]:
        """An idle sandbox, or (None, the number of a sandbox the caller is to start); waits while all are busy."""
        with self._changed:
            while not self.idle and self.live >= self.size:
                self._changed.wait()
            if self.idle:
                sandbox = min(self.idle, key=lambda s: s.number)  # 0 first: the process's modules
                self.idle.remove(sandbox)
                return sandbox, sandbox.number
            number = 0 if 0 not in self.numbers else max(self.numbers) + 1
            self.live += 1
            self.numbers.add(number)
            return None, number

    def give_back(self, sandbox: _Sandbox, *, retire: bool = False) -> None:
        with self._changed:
            if retire:  # a retired sandbox 0 is not made again: later ones run on copies
                self.live -= 1
            else:
                self.idle.append(sandbox)
            self._changed.notify()

    def cold_start_failed(self, number: int) -> None:
        with self._changed:
            self.live -= 1
            self.numbers.discard(number)
            self._changed.notify()


class _SandboxImporter:
    """A sandbox's own copies of ``SANDBOX_PACKAGES``, as a Lambda sandbox's own process would have.

    Each module is executed again from its source under a name of its own (``<prefix>.<name>``, in
    ``sys.modules`` so that pydantic and dataclasses find its namespace), with builtins whose
    ``__import__`` answers those packages from this sandbox's copies: imports at module level and
    inside functions alike, on any thread. ``importlib`` as these modules see it does the same for
    ``import_module`` and entry points (the plugin registry loads plugins so). Everything else
    (pydantic, boto3, moto, the rest of the stdlib) is the process's, shared.
    """

    def __init__(self, prefix: str, packages: tuple[str, ...] = SANDBOX_PACKAGES):
        self.prefix, self.packages = prefix, packages
        self.modules: dict[str, ModuleType] = {}  # real name -> this sandbox's copy
        self.builtins = {**builtins.__dict__, "__import__": self.import_}
        self.importlib = _SandboxImportlib(self)
        self._lock = threading.RLock()  # one module executed at a time (a handler's threads may import lazily)

    def owns(self, name: str) -> bool:
        return name.partition(".")[0] in self.packages

    def names(self) -> list[str]:
        """This sandbox's names in ``sys.modules``."""
        return [module.__name__ for name, module in self.modules.items() if module.__name__ != name]

    def import_(
        self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> ModuleType:
        absolute = name
        if level:
            package = (globals or {}).get("__package__") or ""
            if not package.startswith(self.prefix + "."):
                return builtins.__import__(name, globals, locals, fromlist, level)
            absolute = importlib.util.resolve_name("." * level + name, package[len(self.prefix) + 1 :])
        if absolute.partition(".")[0] == "importlib":
            real = builtins.__import__(absolute, globals, locals, fromlist)  # loaded, as it would be
            if not fromlist:
                return self.importlib
            return {"importlib": self.importlib, "importlib.metadata": self.importlib.metadata}.get(absolute, real)
        if not self.owns(absolute):
            return builtins.__import__(name, globals, locals, fromlist, level)
        with self._lock:
            module = self.load(absolute)
            if not fromlist:
                return module if level else self.modules[absolute.partition(".")[0]]
            names = [*fromlist]
            if "*" in names:
                names = [n for n in names if n != "*"] + list(getattr(module, "__all__", []))
            for item in names:
                if not hasattr(module, item) and hasattr(module, "__path__"):
                    try:
                        self.load(f"{absolute}.{item}")
                    except ModuleNotFoundError:
                        pass  # an attribute the interpreter reports missing itself
            return module

    def import_module(self, name: str, package: str | None = None) -> ModuleType:
        """``importlib.import_module`` as this sandbox's modules see it."""
        absolute = importlib.util.resolve_name(name, package) if name.startswith(".") else name
        if absolute.startswith(self.prefix + "."):  # a copy naming itself by its __name__
            absolute = absolute[len(self.prefix) + 1 :]
        if not self.owns(absolute):
            return importlib.import_module(absolute)
        with self._lock:
            return self.load(absolute)

    def load(self, name: str) -> ModuleType:
        if name in self.modules:
            return self.modules[name]
        parent_name, _, child = name.rpartition(".")
        parent = self.load(parent_name) if parent_name else None
        if name in self.modules:  # the parent's __init__ imported it
            return self.modules[name]
        spec = importlib.machinery.PathFinder.find_spec(name, getattr(parent, "__path__", None))
        if spec is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        if not (spec.origin or "").endswith(".py"):  # compiled or namespace: the process's module
            module = importlib.import_module(name)
        else:
            own = f"{self.prefix}.{name}"
            copy = importlib.util.spec_from_file_location(
                own, spec.origin, submodule_search_locations=spec.submodule_search_locations
            )
            module = importlib.util.module_from_spec(copy)  # type: ignore[arg-type]
            module.__builtins__ = self.builtins  # type: ignore[attr-defined]
            self.modules[name], sys.modules[own] = module, module
            try:
                copy.loader.exec_module(module)  # type: ignore[union-attr]
            except BaseException:
                del self.modules[name], sys.modules[own]
                raise
            if name == "logging":  # its records go where the process's go (its root's handlers and level)
                module.root.handlers, module.root.level = logging.root.handlers, logging.root.level
        self.modules[name] = module
        if parent is not None:
            setattr(parent, child, module)
        return module


class _SandboxImportlib(ModuleType):
    """``importlib`` for a sandbox's modules: ``import_module`` and entry points load the sandbox's copies."""

    def __init__(self, importer: _SandboxImporter):
        super().__init__("importlib")
        self.import_module = importer.import_module
        self.metadata = _SandboxMetadata(importer)

    def __getattr__(self, name: str) -> Any:  # everything else: the real importlib
        return getattr(importlib, name)


class _SandboxMetadata(ModuleType):
    """``importlib.metadata`` whose entry points load into the sandbox."""

    def __init__(self, importer: _SandboxImporter):
        super().__init__("importlib.metadata")

        def load(entry_point: importlib.metadata.EntryPoint) -> Any:
            module = importer.import_module(entry_point.module)
            return functools.reduce(getattr, filter(None, (entry_point.attr or "").split(".")), module)

        self._entry_point = type("EntryPoint", (importlib.metadata.EntryPoint,), {"load": load})

    def entry_points(self, **params: Any) -> importlib.metadata.EntryPoints:
        found = importlib.metadata.entry_points(**params)
        if not isinstance(found, importlib.metadata.EntryPoints):  # Python 3.11's every group at once: as is
            return found
        return importlib.metadata.EntryPoints(self._entry_point(ep.name, ep.value, ep.group) for ep in found)

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.metadata, name)


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
