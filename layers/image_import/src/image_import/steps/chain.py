"""The import as a chain of steps, each with its ``execute`` and its idempotent ``revert`` side by side.

``build_chain(settings)`` is the one description of the import: the state-machine renderer turns it into
the ASL and the plugin functions, every step's Lambda handler runs its step through it (``run_step``), the
failure metric names the step a failure hit from it, and the revert (the state machine's one
``RevertImport`` state, and the sweeper) walks the steps that ran, in reverse, calling each one's
``revert`` (workflow/revert.py). Glance's taskflow tasks and the AWS saga samples are shaped this way.

    [WebDownload] -> VerifyStaging -> Plugin-<name>... -> ImportToStore -> CompleteImport -> DeleteStaging

A data plugin is a step like any other (``PluginStep``). A revert must be idempotent (run twice = run
once): the sweeper may revert an import the state machine already began to revert, and a revert that
failed is run again. Each step's undo removes only what is keyed by this import (deterministic keys), and
the data keys only while the import still holds the image (``owns_data``): once a newer import took the
lock over, those keys may be the newer import's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from aws_lambda_powertools import Logger

from image_import.adapters.ports import Ports
from image_import.models import ImportJob
from image_import.settings import Settings
from image_import.stores.buckets import discard, written_buckets
from image_import.transfer.layout import replacement_key, store_key

logger = Logger(child=True)

UNKNOWN = "unknown"


class Step:
    """One state of the import. ``execute`` returns the job the next state receives; ``revert`` undoes
    what ``execute`` (or a run of it that died midway) left, and does nothing the second time."""

    state: ClassVar[str] = ""
    # the methods that run it (None: every method)
    methods: ClassVar[tuple[str, ...] | None] = None
    # moves its data in passes: the state machine runs it again until ``done_flag`` (a JSONPath) is true,
    # checked by the Choice state ``choice``
    passes: ClassVar[tuple[str, str] | None] = None
    # after CompleteImport the image is active: a failure here never reverts it (the sweeper removes residue)
    cleanup: ClassVar[bool] = False

    @property
    def function_id(self) -> str:
        """The template's logical id of its function: VerifyStaging -> VerifyStagingFunction."""
        return f"{self.state}Function"

    def payload(self) -> dict[str, Any]:
        """What the state passes its function: the whole job."""
        return {"Payload.$": "$"}

    def runs_for(self, method: str) -> bool:
        return self.methods is None or method in self.methods

    def finished(self, job: ImportJob) -> bool:
        """Whether the state is done with ``job`` (a pass state: once its last pass returned)."""
        return True

    def ports(self, job: ImportJob, settings: Settings) -> Ports:
        """The ports its function works with: the function's own role's."""
        from image_import.adapters.ports import default_ports

        return default_ports()

    def execute(self, job: ImportJob, settings: Settings, ports: Ports, deadline: float | None = None) -> ImportJob:
        raise NotImplementedError

    def revert(self, job: ImportJob, settings: Settings, ports: Ports, owns_data: bool) -> None:
        """Nothing to undo (the default)."""

    def ran(self, job: ImportJob) -> bool:
        """Whether ``job`` shows this step ran: the state finished, or its slice of the job says so."""
        return self.state in job.steps_done


class WebDownload(Step):
    """The user's URI into the staging bucket, in passes; undone: nothing of the download is kept (a
    retry downloads again)."""

    state = "WebDownload"
    methods = ("web-download",)
    passes = ("$.download.progress.done", "DownloadDone")

    def finished(self, job: ImportJob) -> bool:
        return bool(job.download and job.download.progress and job.download.progress.done)

    def execute(self, job, settings, ports, deadline=None):
        from image_import.steps import web_download

        return web_download.download(job, settings, ports, deadline)

    def ran(self, job):
        return super().ran(job) or (job.download is not None and job.download.progress is not None)

    def revert(self, job, settings, ports, owns_data):
        if not owns_data:
            return
        progress = job.download.progress if job.download is not None else None
        if progress is not None and not progress.done:  # the parts of a download in passes
            ports.staging.abort_multipart(job.staging_key, progress.upload_id)
        ports.staging.delete(job.staging_key)


class VerifyStaging(Step):
    """The staged data exists and is the size recorded; the task goes to 'processing'. Nothing to undo:
    the revert's ending fails the task."""

    state = "VerifyStaging"

    def execute(self, job, settings, ports, deadline=None):
        from image_import.steps import work

        return work.verify_staging(job, settings, ports)


@dataclass(frozen=True)
class PluginStep(Step):
    """A configured import plugin (plugins/base.py), in its own function and scoped role session; undone:
    the plugin's own ``revert`` (if its execute finished), and the replacement it may have written (its
    key is deterministic, so also one whose plugin died before reporting it)."""

    plugin: str

    @property
    def state(self) -> str:  # type: ignore[override]
        return plugin_state(self.plugin)

    @property
    def function_id(self) -> str:
        return plugin_function_id(self.plugin)

    def payload(self) -> dict[str, Any]:
        return {"Payload": {"plugin": self.plugin, "job.$": "$"}}

    def ports(self, job, settings):
        from image_import.adapters.ports import plugin_ports
        from image_import.plugins.registry import plugin_for

        # a role session scoped to its import, never the function's role; a data plugin's may write data
        return plugin_ports(job, self.plugin, plugin_for(self.plugin, settings).function.writes_data)

    def execute(self, job, settings, ports, deadline=None):
        from image_import.steps import work

        return work.run_plugin(self.plugin, job, settings, ports, deadline)

    def ran(self, job):
        return super().ran(job) or self.plugin in job.plugins.done

    def revert(self, job, settings, ports, owns_data):
        from image_import.plugins.registry import plugin_for
        from image_import.steps import work

        if self.plugin in job.plugins.done:
            try:
                plugin_for(self.plugin, settings).revert(work.plugin_job(job, ports, self.plugin))
            except Exception:  # one plugin's failed revert must not stop the others
                logger.exception("plugin revert failed", extra={"plugin": self.plugin, "task_id": job.task_id})
        ports.staging.delete(replacement_key(job.image_id, job.task_id, self.plugin))  # this task's key only


class ImportToStore(Step):
    """The data into the first store (hashed, inspected), in passes; in a Map iteration, from the first
    store into another. Undone: the image's object in every store this import may have written (only the
    new ones of a copy-image), with any unfinished multipart upload."""

    state = "ImportToStore"
    passes = ("$.store.progress.done", "StoreCopyDone")

    def finished(self, job: ImportJob) -> bool:
        return bool(job.store.progress and job.store.progress.done)

    def execute(self, job, settings, ports, deadline=None):
        from image_import.steps import work

        return work.store_pass(job, settings, ports, deadline)

    def ran(self, job):
        return super().ran(job) or job.store.key is not None or job.store.progress is not None

    def revert(self, job, settings, ports, owns_data):
        if not owns_data:
            return
        key = job.store.key or store_key(job.image_id)  # deterministic: also a pass that died unreported
        buckets = written_buckets(job, settings, ports)
        if buckets == [ports.store]:
            ports.store.abort_uploads(key)  # a copy in passes stopped midway
            ports.store.delete(key)
            return
        for bucket in buckets:  # one store that cannot be reached must not keep the others' copies
            discard(bucket, key)


class CompleteImport(Step):
    """Image active, task success, lock released. Never reverted once it succeeded (the revert's
    ``completed`` check); before that it changed nothing."""

    state = "CompleteImport"

    def execute(self, job, settings, ports, deadline=None):
        from image_import.steps import work

        return work.complete(job, ports, settings)


class DeleteStaging(Step):
    """Cleanup once the image is active: its failure leaves the image active (the sweeper removes residue)."""

    state = "DeleteStaging"
    cleanup = True

    def execute(self, job, settings, ports, deadline=None):
        from image_import.steps import work

        return work.delete_staging(job, ports)


@dataclass(frozen=True)
class Chain:
    """The steps of every method, in order (``for_method`` picks one method's)."""

    steps: tuple[Step, ...]

    def step(self, state: str) -> Step:
        for step in self.steps:
            if step.state == state:
                return step
        raise KeyError(f"no step named {state!r} in the import chain ({', '.join(self.states())})")

    def states(self) -> list[str]:
        return [step.state for step in self.steps]

    def for_method(self, method: str) -> list[Step]:
        """The steps an import of ``method`` passes through, in order. A copy-image runs the store step's
        copies (the Map state) and the completion only."""
        if method == COPY_IMAGE:
            return [s for s in self.steps if isinstance(s, (ImportToStore, CompleteImport, DeleteStaging))]
        return [step for step in self.steps if step.runs_for(method)]

    def failed_state(self, job: ImportJob, failed_step: str | None = None) -> str:
        """The state ``job`` failed in: the one named, else the first one of its chain that did not finish."""
        if failed_step:
            return failed_step
        pending = [s.state for s in self.for_method(job.method) if s.state not in job.steps_done]
        return pending[0] if pending else UNKNOWN

    def ran(self, job: ImportJob, failed_in: str | None) -> list[Step]:
        """The steps that ran (or may have), in order: up to the one it failed in, or the last one the job
        shows ran if that is further. A failure no state reported (``failed_in`` not a state of the
        method: the sweeper's lost execution) may have come after any of them: all."""
        steps = self.for_method(job.method)
        names = [s.state for s in steps]
        if failed_in not in names:
            return steps
        last = max([names.index(failed_in), *(i for i, step in enumerate(steps) if step.ran(job))])
        return steps[: last + 1]

    def revert(self, job: ImportJob, settings: Settings, ports: Ports, owns_data: bool, steps: Iterable[Step]) -> None:
        """Each of ``steps``' revert, last first."""
        for step in reversed(list(steps)):
            step.revert(job, settings, ports, owns_data)


COPY_IMAGE = "copy-image"


def plugin_state(plugin: str) -> str:
    return f"Plugin-{plugin}"


def plugin_function_id(plugin: str) -> str:
    """``inject_image_metadata`` -> ``InjectImageMetadataPluginFunction``."""
    import re

    words = re.split(r"[^0-9A-Za-z]+", plugin)
    return "".join(w[:1].upper() + w[1:] for w in words if w) + "PluginFunction"


@functools.cache
def chain_of(plugins: tuple[str, ...]) -> Chain:
    return Chain(
        (
            WebDownload(),
            VerifyStaging(),
            *(PluginStep(p) for p in plugins),
            ImportToStore(),
            CompleteImport(),
            DeleteStaging(),
        )
    )


def build_chain(settings: Settings) -> Chain:
    """The import's chain for these settings: the configured plugins, in configured order."""
    return chain_of(tuple(settings.image_import_plugins))


def run_step(state: str, job: dict[str, Any], context: Any, settings: Settings | None = None) -> dict[str, Any]:
    """A step's Lambda handler: run the chain's step ``state`` on the job (one pass, for a pass state) within
    the function's time, recording the state in ``steps_done`` once it is finished."""
    from image_import.observability import step_handler
    from image_import.settings import get_settings

    settings = settings or get_settings()
    step = build_chain(settings).step(state)
    run = step_handler(state, finished=step.finished)(
        lambda job, deadline: step.execute(job, settings, step.ports(job, settings), deadline)
    )
    return run(job, context)


WEB_DOWNLOAD_STATE = WebDownload.state
CLEANUP_STATES = tuple(cls.state for cls in (DeleteStaging,) if cls.cleanup)
PASS_STATES = {cls.state: cls.passes for cls in (WebDownload, ImportToStore) if cls.passes}
