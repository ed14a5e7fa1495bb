"""Bytes an import adds are claimed as they arrive (quotas/growth.py, steps/actions.py): under the limit
freely, past it only as the project's one operation holding the overrun slot, never once the project is
over; a slot left by an import whose task is over is freed by the next that needs it."""

from __future__ import annotations

import pytest

from image_import.errors import ImportFailed
from image_import.models import Image, Task
from image_import.models.image import ImportLock
from image_import.models.quota import IMAGE_STAGE_TOTAL, MIB
from image_import.quotas.limits import limits_of
from image_import.settings import load_settings
from image_import.steps.actions import ImageActions
from tests.support.config import set_option
from tests.support.fakes import fake_ports


@pytest.fixture
def limited(config_dir):
    set_option(config_dir, "glance-api.conf", "image_limits", "image_stage_total", "2")
    set_option(config_dir, "glance-api.conf", "image_limits", "image_size_total", "-1")
    return load_settings(config_dir)


def importing(ports, number: int) -> ImageActions:
    image_id, task_id = f"image-{number}", f"task-{number}"
    lock = ImportLock(task_id=task_id, taken_at="2026-12-07T00:00:00Z")
    ports.images.create(Image(id=image_id, owner="p", status="importing", import_lock=lock))
    now = "2026-12-07T00:00:00Z"
    task = Task(id=task_id, owner="p", status="processing", image_id=image_id, created_at=now, updated_at=now)
    ports.tasks.create(task)
    return ports


def actions_of(ports, number: int, settings) -> ImageActions:
    """The import's actions with the limits its admission read (ImportJob.limits)."""
    limits = limits_of("p", settings) if settings.quotas_enabled else None
    return ImageActions(ports, f"image-{number}", f"task-{number}", settings, limits)


def arrive(actions: ImageActions, count: int) -> Image:
    return actions.apply(lambda image: setattr(image, "arriving", count))


def test_one_operation_may_run_past_the_limit_and_no_other_while_it_does(limited):
    ports = fake_ports()
    for number in (1, 2, 3):
        importing(ports, number)
    first, second, third = (actions_of(ports, n, limited) for n in (1, 2, 3))
    arrive(first, MIB)  # under the limit
    arrive(second, 2 * MIB)  # past it (3 MiB): takes the slot, the project was not over
    assert ports.usage.overrun_holders("p") == {IMAGE_STAGE_TOTAL: "task-2"}
    arrive(second, 3 * MIB)  # its holder goes on
    with pytest.raises(ImportFailed, match="image_stage_total is over limit of 2"):
        arrive(third, 1)
    second.release_overruns("p")
    with pytest.raises(ImportFailed, match="image_stage_total is over limit of 2"):
        arrive(third, 1)  # the slot is free, but the project is over already


def test_a_write_that_adds_nothing_claims_nothing_even_over_the_limit(limited):
    ports = fake_ports()
    importing(ports, 1)
    actions = actions_of(ports, 1, limited)
    arrive(actions, 3 * MIB)
    actions.release_overruns("p")
    # over the limit, and another change of the image (a plugin's property) still goes through
    assert actions.set_extra_properties({"stamp": "x"}).properties["stamp"] == "x"
    assert arrive(actions, MIB).arriving == MIB  # so does one that lowers the count


def test_a_slot_left_by_an_import_that_is_over_is_freed_by_the_next(limited):
    ports = fake_ports()
    for number in (1, 2, 3):
        importing(ports, number)
    arrive(actions_of(ports, 1, limited), MIB)
    arrive(actions_of(ports, 2, limited), 2 * MIB)  # takes the slot, never releases it

    def failed(task):
        task.status = "failure"
        return True

    ports.tasks.edit("task-2", failed, attempts=1)
    ports.images.edit("image-2", lambda image: setattr(image, "arriving", 0) or True, attempts=1)
    arrive(actions_of(ports, 3, limited), 2 * MIB)  # past it again: the stale slot freed
    assert ports.usage.overrun_holders("p") == {IMAGE_STAGE_TOTAL: "task-3"}


def test_an_import_admitted_without_limits_claims_nothing_in_its_steps(limited):
    """A workflow document from before the limits were carried: no step reads the limits itself."""
    ports = fake_ports()
    importing(ports, 1)
    actions = ImageActions(ports, "image-1", "task-1", limited, limits=None)
    assert not actions.counts_bytes and arrive(actions, 100 * MIB).arriving == 100 * MIB


def test_without_quotas_nothing_is_claimed(settings):
    ports = fake_ports()
    importing(ports, 1)
    actions = actions_of(ports, 1, settings)
    assert not actions.counts_bytes
    assert arrive(actions, 100 * MIB).arriving == 100 * MIB
