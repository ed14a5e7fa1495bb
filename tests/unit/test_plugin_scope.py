"""A plugin works as a role session scoped to its import (issue 21, low): the ports it is given sign with
credentials of ``PLUGIN_ROLE_ARN`` for a session tagged with the image, the task and the image's owner,
which the role's policy (template.yaml, tests/infra/test_plugin_scope_template.py) confines to them."""

from __future__ import annotations

import pytest

from image_import import composition
from image_import.adapters.aws import Credentials
from image_import.models import ImportJob
from image_import.settings import ConfigError
from tests.support.fakes import fake_ports
from tests.support.imports import GLANCE_DIRECT, MEMBER, staged_image

ROLE = "arn:aws:iam::123456789012:role/s-PluginImageRole-X"
DATA_ROLE = "arn:aws:iam::123456789012:role/s-DataPluginImageRole-X"
IMAGE_ID, TASK_ID = "0d5e7a43-9b1c-4f2e-8a6d-3c1b2a4f5e60", "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
SCOPED = Credentials("ASIASCOPED", "secret", "session-token")


class Sessions:
    """A fake sts:AssumeRole: what was asked, and the scoped credentials."""

    def __init__(self):
        self.asked: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, role_arn: str, session_name: str, tags: dict[str, str]) -> Credentials:
        self.asked.append((role_arn, session_name, tags))
        return SCOPED


@pytest.fixture
def plugin_function(monkeypatch):
    """A plugin function's environment, as the template gives it."""
    env = {"IMAGES_TABLE": "images", "TASKS_TABLE": "tasks", "STAGING_BUCKET": "staging", "STORE_BUCKET": "store"}
    env |= {"PLUGIN_ROLE_ARN": ROLE, "DATA_PLUGIN_ROLE_ARN": DATA_ROLE, "AWS_DEFAULT_REGION": "us-east-1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    composition.reset()
    yield
    composition.reset()


def job(**fields) -> ImportJob:
    return ImportJob(image_id=IMAGE_ID, task_id=TASK_ID, context=MEMBER, staging_key=f"staging/{IMAGE_ID}", **fields)


def test_given_an_import_when_its_plugin_gets_its_ports_then_they_sign_as_a_session_tagged_with_the_import(
    plugin_function,
):
    from image_import.adapters.ports import plugin_ports

    sessions = Sessions()
    ports = plugin_ports(job(owner="demo"), "no_op", assume=sessions)

    assert sessions.asked == [
        (ROLE, f"no_op.{TASK_ID}", {"ImageId": IMAGE_ID, "TaskId": TASK_ID, "ImageOwner": "demo"})
    ]
    assert {p.credentials for p in (ports.images, ports.tasks, ports.staging, ports.store)} == {SCOPED}
    for signed in (ports.images._dynamodb(), ports.staging._s3()):  # the clients themselves, not the function's
        assert signed._request_signer._credentials.access_key == "ASIASCOPED"
    assert ports.workflow is None and ports.events is None  # a plugin starts nothing and publishes nothing


def test_given_a_data_plugin_then_its_session_is_of_the_role_that_may_write_its_replacement(plugin_function):
    from image_import.adapters.ports import plugin_ports

    sessions = Sessions()
    plugin_ports(job(owner="demo"), "image_conversion", writes_data=True, assume=sessions)

    assert [(role, name) for role, name, _ in sessions.asked] == [(DATA_ROLE, f"image_conversion.{TASK_ID}")]


def test_given_a_job_document_without_the_owner_then_the_image_record_read_in_a_first_session_names_it(
    plugin_function, monkeypatch
):
    from image_import.adapters import ports as ports_module
    from image_import.models import Image

    sessions = Sessions()
    read = []
    monkeypatch.setattr(
        ports_module.ImageRepository,
        "get",
        lambda self, image_id: read.append(self.credentials) or Image(id=image_id, owner="alt"),
    )

    ports_module.plugin_ports(job(), "no_op", assume=sessions)

    assert [tags["ImageOwner"] for _, _, tags in sessions.asked] == ["", "alt"]  # the first may touch no counters
    assert read == [SCOPED]


def test_given_no_plugin_role_then_the_plugin_does_not_run_as_the_functions_role(plugin_function, monkeypatch):
    from image_import.adapters.ports import plugin_ports

    monkeypatch.delenv("PLUGIN_ROLE_ARN")
    composition.reset()
    with pytest.raises(ConfigError, match="PLUGIN_ROLE_ARN"):
        plugin_ports(job(owner="demo"), "no_op", assume=Sessions())


def test_the_import_job_carries_the_images_owner(settings):
    from image_import.workflow.start import start_import

    ports = fake_ports()
    image_id = staged_image(ports, settings)
    start_import(MEMBER, image_id, GLANCE_DIRECT, settings, ports)

    [(_, document)] = ports.workflow.started
    assert document["owner"] == ports.images.get(image_id).owner == "demo"
