"""The import is one chain of steps (steps/chain.py): each step's revert sits beside its execute and is
idempotent, the revert walks only the steps that ran, last first, and the renderer, the handlers and the
revert all take the chain from the one ``build_chain(settings)``."""

from __future__ import annotations

import ast
import copy
import json
from datetime import UTC, datetime

import pytest
from image_import_dev.render import definition

from image_import.models import Image, ImportJob, RequestContext, Task
from image_import.models.image import ImportLock
from image_import.models.job import DownloadSlice, DownloadState, PluginsSlice, StepError
from image_import.steps.chain import Chain, Step, build_chain, chain_of
from image_import.transfer.layout import replacement_key, store_key
from image_import.workflow.revert import revert
from tests.support.fakes import fake_ports
from tests.support.paths import ROOT

IMAGE, TASK = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-0000000000aa"
NOW = "2026-12-01T00:00:00Z"
PLUGINS = ("no_op", "inject_image_metadata")
CONTEXT = RequestContext(user_id="u", project_id="p", roles=["member"], request_id="r")


def task_states(states: dict) -> set[str]:
    return {name for name, state in states.items() if state["Type"] == "Task"}


# ------------------------------------------------------------------ one source
def test_the_rendered_state_machine_has_one_task_state_per_step_of_the_chain(settings):
    chain = build_chain(settings)
    asl = json.loads((ROOT / "statemachine" / "import.asl.json").read_text())

    assert task_states(asl["States"]) - {"RevertImport"} == set(chain.states())
    for step in chain.steps:
        assert asl["States"][step.state]["Parameters"]["FunctionName"] == f"${{{step.function_id}Arn}}"


def test_a_chain_with_other_plugins_renders_their_states_in_its_order():
    chain = chain_of(("inject_image_metadata", "no_op"))
    assert task_states(definition(chain)["States"]) - {"RevertImport"} == set(chain.states())
    assert chain.states()[2:4] == ["Plugin-inject_image_metadata", "Plugin-no_op"]


def handled_states() -> dict[str, str]:
    """functions/<name>/app.py -> the chain state its handler runs (the literal given to run_step)."""
    found = {}
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        for node in ast.walk(ast.parse(app.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "run_step":
                first = node.args[0]
                found[app.parent.name] = first.value if isinstance(first, ast.Constant) else "<plugin>"
    return found


def test_every_step_handler_runs_its_step_through_the_chain(settings):
    states = {s for s in build_chain(settings).states() if not s.startswith("Plugin-")}
    handled = handled_states()
    assert set(handled.values()) == {*states, "<plugin>"}
    template = (ROOT / "template.yaml").read_text()
    for step in build_chain(settings).steps:
        assert f"{step.function_id}:" in template


# ------------------------------------------------------------------ revert walks what ran, in reverse
class Recording(Step):
    def __init__(self, state: str, log: list[str]):
        self._state, self.log = state, log

    @property
    def state(self) -> str:  # type: ignore[override]
        return self._state

    def revert(self, job, settings, ports, owns_data):
        self.log.append(self.state)


def recording_chain(log: list[str]) -> Chain:
    return Chain(
        tuple(Recording(s, log) for s in ("VerifyStaging", "Plugin-a", "Plugin-b", "ImportToStore", "CompleteImport"))
    )


def a_locked_import(ports, method: str = "glance-direct") -> ImportJob:
    ports.images.create(
        Image(id=IMAGE, status="importing", owner="p", disk_format="raw", container_format="bare",
              import_lock=ImportLock(task_id=TASK, taken_at=NOW))
    )  # fmt: skip
    ports.tasks.create(Task(id=TASK, owner="p", image_id=IMAGE, status="processing", created_at=NOW, updated_at=NOW))
    return ImportJob(image_id=IMAGE, task_id=TASK, method=method, context=CONTEXT, staging_key=f"staging/{IMAGE}")


@pytest.mark.parametrize(
    ("done", "reverted"),
    [
        ([], ["VerifyStaging"]),
        (["VerifyStaging"], ["Plugin-a", "VerifyStaging"]),
        (["VerifyStaging", "Plugin-a", "Plugin-b"], ["ImportToStore", "Plugin-b", "Plugin-a", "VerifyStaging"]),
    ],
)
def test_the_revert_walks_the_steps_that_ran_and_the_one_that_failed_last_first(settings, done, reverted):
    ports, log = fake_ports(), []
    job = a_locked_import(ports).model_copy(update={"steps_done": done, "error": StepError(Error="ImportFailed")})

    revert(job, settings, ports, chain=recording_chain(log))

    assert log == reverted
    assert ports.tasks.get(TASK).status == "failure"


def test_an_import_whose_progress_is_unknown_reverts_every_step(settings):
    ports, log = fake_ports(), []

    revert(a_locked_import(ports), settings, ports, chain=recording_chain(log), failed_in="LostExecution")

    assert log == ["CompleteImport", "ImportToStore", "Plugin-b", "Plugin-a", "VerifyStaging"]


def test_a_failure_before_the_store_step_leaves_the_store_alone(settings):
    ports = fake_ports()
    ports.store.put(store_key(IMAGE), b"not written by this import's failed verification")
    job = a_locked_import(ports).model_copy(update={"error": StepError(Error="ImportFailed")})

    revert(job, settings, ports)

    assert store_key(IMAGE) in ports.store.objects


# ------------------------------------------------------------------ each revert: twice = once
def residue(ports, job: ImportJob) -> None:
    """Everything every step of ``job`` could have left: a download in passes, the plugins' replacements, a
    store copy in passes."""
    ports.staging.put(job.staging_key, b"downloaded")
    for plugin in PLUGINS:
        ports.staging.put(replacement_key(IMAGE, TASK, plugin), b"replaced")
    ports.store.put(store_key(IMAGE), b"stored")
    ports.store.multipart["copy-1"] = (store_key(IMAGE), datetime.now(UTC))
    ports.staging.multipart["dl-1"] = (job.staging_key, datetime.now(UTC))


def world(ports) -> tuple:
    return tuple(copy.deepcopy((bucket.objects, bucket.multipart)) for bucket in (ports.staging, ports.store)) + (
        ports.images.get(IMAGE),
        ports.tasks.get(TASK),
    )


@pytest.mark.parametrize("state", chain_of(PLUGINS).states())
def test_each_steps_revert_run_twice_leaves_what_it_left_once(settings, state):
    ports = fake_ports()
    job = a_locked_import(ports, method="web-download").model_copy(
        update={
            "plugins": PluginsSlice(done=list(PLUGINS)),
            "download": DownloadSlice(
                uri="http://x/", progress=DownloadState(uri="http://x/", size=10, part_size=5, upload_id="dl-1")
            ),
        }
    )
    residue(ports, job)
    step = chain_of(PLUGINS).step(state)

    step.revert(job, settings, ports, owns_data=True)
    once = world(ports)
    step.revert(job, settings, ports, owns_data=True)

    assert world(ports) == once


def test_the_whole_revert_run_twice_leaves_what_it_left_once(settings):
    ports = fake_ports()
    job = a_locked_import(ports).model_copy(update={"steps_done": ["VerifyStaging"], "error": StepError()})
    residue(ports, job)

    revert(job, settings, ports, failed_in="LostExecution")
    once = world(ports)
    revert(job, settings, ports, failed_in="LostExecution")

    assert world(ports) == once
    assert ports.store.objects == {} and ports.store.multipart == {}
    assert list(ports.staging.objects) == [job.staging_key]  # glance-direct: the staged data is kept


def test_a_step_leaves_the_data_of_an_import_that_took_the_lock_over_alone(settings):
    ports = fake_ports()
    job = a_locked_import(ports)
    residue(ports, job)
    before = world(ports)

    for step in chain_of(PLUGINS).steps:
        if not step.state.startswith("Plugin-"):  # a plugin's replacement is keyed by its own task
            step.revert(job, settings, ports, owns_data=False)

    assert world(ports) == before
