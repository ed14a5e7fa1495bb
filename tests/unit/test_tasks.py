"""The Tasks API's use cases against in-memory adapters: expiry, list filters, sort keys, paging, views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from image_import.errors import BadRequest, NotFound
from image_import.models import RequestContext, Task
from image_import.models.time import utc_stamp
from image_import.tasks.catalog import create_task, get_task, list_tasks, task_detail, task_stub
from tests.support.fakes import fake_ports
from tests.support.records import in_memory

ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["admin"], request_id="req-a", is_admin=True)
NOW = datetime.now(UTC)


def stamp(hours: float) -> str:
    return utc_stamp(NOW + timedelta(hours=hours))


def task(task_id: str, created: float = 0, **fields) -> Task:
    base = {"image_id": f"image-{task_id}", "owner": "demo", "created_at": stamp(created), "updated_at": stamp(created)}
    return Task(id=task_id, **{**base, **fields})


def uid(n: int) -> str:
    return f"00000000-0000-0000-0000-{n:012d}"


def ports_with(*tasks: Task):
    ports = fake_ports()
    for t in tasks:
        ports.tasks.create(t)
    return ports


def ids(page) -> list[str]:
    return [t.id for t in page.tasks]


def test_a_task_past_its_expiry_is_not_found_and_not_listed(settings):
    ended = task(uid(1), status="success", expires_at=stamp(-0.01))
    live = task(uid(2), status="success", expires_at=stamp(1))
    ports = ports_with(ended, live)
    with pytest.raises(NotFound):
        get_task(ADMIN, uid(1), settings, ports)
    assert get_task(ADMIN, uid(2), settings, ports).id == uid(2)
    assert ids(list_tasks(ADMIN, {}, settings, ports)) == [uid(2)]


def test_an_expired_task_cannot_be_a_marker(settings):
    ports = ports_with(task(uid(1), status="failure", expires_at=stamp(-1)), task(uid(2)))
    with pytest.raises(BadRequest, match=f"Task with the given id {uid(1)} was not found"):
        list_tasks(ADMIN, {"marker": [uid(1)]}, settings, ports)


def test_the_ttl_attribute_is_expires_at_in_epoch_seconds():
    ended = task(uid(1), expires_at="2026-12-04T02:13:17Z")
    assert ended.expires_at_epoch == int(datetime(2026, 12, 4, 2, 13, 17, tzinfo=UTC).timestamp())
    assert "expires_at_epoch" in ended.model_dump(mode="json")  # what the repository stores
    assert task(uid(2)).expires_at_epoch is None
    assert Task.model_validate(ended.model_dump(mode="json")) == ended  # read back: ignored


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sort_dir": ["up"]}, "Invalid sort direction: up"),
        ({"status": ["bogus"]}, "Invalid status value: bogus"),
        ({"type": ["api_image_import"]}, "Invalid type value: api_image_import"),
        ({"marker": ["bogus"]}, "Invalid marker format"),
        ({"marker": [uid(99)]}, f"Task with the given id {uid(99)} was not found"),
        ({"limit": ["x"]}, "limit param must be an integer"),
        ({"limit": ["-1"]}, "limit param must be positive"),
        ({"sort_key": ["bogus"]}, "Sort key supplied was not valid."),
        ({"sort_key": ["message"]}, "Sort key supplied was not valid."),  # not a column of Glance's tasks table
        ({"sort_key": ["input"]}, "Sort key supplied was not valid."),
        ({"sort_key": ["result"]}, "Sort key supplied was not valid."),
    ],
)
def test_bad_list_parameters_are_400_with_glances_messages(settings, query, message):
    with pytest.raises(BadRequest) as raised:
        list_tasks(ADMIN, query, settings, ports_with(task(uid(1))))
    assert raised.value.explanation == message


@pytest.mark.parametrize("key", ["owner", "expires_at", "image_id", "request_id", "user_id", "type", "status"])
def test_glances_other_task_columns_are_sort_keys(settings, key):
    ports = ports_with(task(uid(1), owner="b", request_id="r1"), task(uid(2), owner="a", request_id="r2"))
    assert len(list_tasks(ADMIN, {"sort_key": [key]}, settings, ports).tasks) == 2


def test_sorting_breaks_ties_on_created_at_then_id_in_the_same_direction(settings):
    ports = ports_with(
        task(uid(1), created=-3, status="success"),
        task(uid(2), created=-2, status="failure"),
        task(uid(3), created=-1, status="success"),
        task(uid(4), created=-1, status="success"),
    )
    assert ids(list_tasks(ADMIN, {"sort_key": ["status"]}, settings, ports)) == [uid(4), uid(3), uid(1), uid(2)]
    asc = {"sort_key": ["status"], "sort_dir": ["asc"]}
    assert ids(list_tasks(ADMIN, asc, settings, ports)) == [uid(2), uid(1), uid(3), uid(4)]


def test_pages_follow_the_marker_in_sort_order(settings):
    ports = ports_with(*(task(uid(n), created=-n) for n in range(1, 6)))
    first = list_tasks(ADMIN, {"limit": ["2"]}, settings, ports)
    assert ids(first) == [uid(1), uid(2)] and first.next_marker == uid(2)
    second = list_tasks(ADMIN, {"limit": ["2"], "marker": [uid(2)]}, settings, ports)
    assert ids(second) == [uid(3), uid(4)]
    last = list_tasks(ADMIN, {"limit": ["2"], "marker": [uid(4)]}, settings, ports)
    assert ids(last) == [uid(5)] and last.next_marker is None
    assert list_tasks(ADMIN, {"limit": ["0"]}, settings, ports).tasks == []


@pytest.mark.parametrize("sort_key", ["created_at", "status"])  # the index's order, and one sorted in memory
def test_pages_cut_by_a_byte_budget_follow_the_marker_to_every_task_once(settings, sort_key):
    ports = ports_with(*(task(uid(n), created=-n) for n in range(1, 6)))
    query, listed, marker = {"sort_key": [sort_key]}, [], None

    while True:  # two tasks of 10 bytes fit a budget of 25, whatever the limit (25)
        params = {**query, **({"marker": [marker]} if marker else {})}
        found = list_tasks(ADMIN, params, settings, ports, size_of=lambda _: 10, budget=25)
        listed.append(ids(found))
        if (marker := found.next_marker) is None:
            break

    assert listed == [[uid(1), uid(2)], [uid(3), uid(4)], [uid(5)]]


def test_the_marker_need_not_pass_the_filters(settings):
    ports = ports_with(
        task(uid(1), created=-1, status="success"), task(uid(2), created=-2), task(uid(3), created=-3, status="success")
    )
    page = list_tasks(ADMIN, {"status": ["success"], "marker": [uid(2)]}, settings, ports)
    assert ids(page) == [uid(3)]


def test_repeated_paging_parameters_count_their_first_value_and_filters_their_last(settings):
    # WebOb: Glance pops limit/marker/sort_key/sort_dir (the first value) and .get()s filters (the last)
    ports = ports_with(
        task(uid(1), created=-1, status="success"), task(uid(2), created=-2), task(uid(3), created=-3, status="success")
    )
    assert ids(list_tasks(ADMIN, {"limit": ["1", "3"]}, settings, ports)) == [uid(1)]
    assert ids(list_tasks(ADMIN, {"status": ["pending", "success"]}, settings, ports)) == [uid(1), uid(3)]


def test_list_filters_on_any_column_by_equality_and_ignores_unknown_keys(settings):
    ports = ports_with(task(uid(1), created=-1, owner="a", user_id="u1"), task(uid(2), created=-2, owner="b"))
    assert ids(list_tasks(ADMIN, {"owner": ["b"]}, settings, ports)) == [uid(2)]
    assert ids(list_tasks(ADMIN, {"user_id": ["u1"]}, settings, ports)) == [uid(1)]
    assert ids(list_tasks(ADMIN, {"foo": ["bar"]}, settings, ports)) == [uid(1), uid(2)]
    # an empty value is a filter that nothing matches (Glance compares the column to '')
    assert list_tasks(ADMIN, {"status": [""]}, settings, ports).tasks == []
    assert ids(list_tasks(ADMIN, {"type": ["import"]}, settings, ports)) == []


def test_a_legacy_import_tasks_image_is_named_by_its_result_only(settings):
    legacy = task(uid(1), type="import", status="success", result={"image_id": "image-x"}, expires_at=stamp(48))
    assert "image_id" not in task_detail(legacy) and "image_id" not in task_stub(legacy)
    assert task_detail(task(uid(2)))["image_id"] == f"image-{uid(2)}"
    ports = ports_with(legacy)
    assert list_tasks(ADMIN, {"image_id": [f"image-{uid(1)}"]}, settings, ports).tasks == []


# ---------------------------------------------------------------------------- create
def public(host: str) -> list[str]:
    return ["93.184.216.34"]


LEGACY = {
    "type": "import",
    "input": {
        "import_from": "http://images.example.com/disk.qcow2",
        "import_from_format": "qcow2",
        "image_properties": {"name": "t", "disk_format": "qcow2", "container_format": "bare"},
    },
}


def test_an_import_task_starts_a_web_download_of_its_uri_on_the_image_it_created(settings):
    from image_import.workflow.start import execution_name

    ports = fake_ports()
    created = create_task(ADMIN, LEGACY, settings, ports, resolve=public)
    assert created.status == "pending" and created.type == "import" and created.input == LEGACY["input"]
    image = ports.images.get(created.image_id)
    assert image.name == "t" and image.status == "importing" and image.import_lock.task_id == created.id
    [(name, document)] = ports.workflow.started
    assert name == execution_name(image.id, created.id)
    assert document["method"] == "web-download"
    assert document["download"]["uri"] == "http://images.example.com/disk.qcow2"
    assert document["staging_key"] == f"web-download/{image.id}"


def test_an_import_task_whose_workflow_cannot_start_fails_and_keeps_no_image(settings):
    from tests.support.fakes import FakeWorkflow

    ports = fake_ports(FakeWorkflow(fail=RuntimeError("throttled")))
    created = create_task(ADMIN, LEGACY, settings, ports, resolve=public)
    stored = ports.tasks.get(created.id)
    assert stored.status == "failure" and "could not be started" in stored.message and stored.expires_at
    assert in_memory(ports.images) == []


def test_an_import_task_checks_its_uri_with_the_web_download_filter(settings):
    private = lambda host: ["10.0.0.8"]  # noqa: E731 (a resolver)
    with pytest.raises(BadRequest, match="URI for legacy import task does not pass filtering"):
        create_task(ADMIN, LEGACY, settings, fake_ports(), resolve=private)


def test_an_import_task_may_name_its_images_id_and_a_malformed_one_fails_the_task(settings):
    ports = fake_ports()
    chosen = "11111111-2222-3333-4444-555555555555"
    named = {**LEGACY, "input": {**LEGACY["input"], "image_properties": {**LEGACY["input"]["image_properties"]}}}
    named["input"]["image_properties"]["id"] = chosen
    created = create_task(ADMIN, named, settings, ports, resolve=public)
    assert created.image_id == chosen and ports.images.get(chosen).status == "importing"

    named["input"]["image_properties"]["id"] = 5
    failed = create_task(ADMIN, named, settings, ports, resolve=public)
    stored = ports.tasks.get(failed.id)
    assert stored.status == "failure" and stored.message.startswith("The image could not be created:")


def test_an_import_task_naming_its_images_id_in_upper_case_records_and_creates_the_lower_case_id(settings):
    ports = fake_ports()
    chosen = "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"
    named = {**LEGACY, "input": {**LEGACY["input"], "image_properties": {**LEGACY["input"]["image_properties"]}}}
    named["input"]["image_properties"]["id"] = chosen
    created = create_task(ADMIN, named, settings, ports, resolve=public)
    assert created.image_id == chosen.lower() and [i.id for i in in_memory(ports.images)] == [chosen.lower()]
    assert [t.id for t in ports.tasks.for_image(chosen.lower())] == [created.id]
    again = create_task(ADMIN, {**named, "input": {**named["input"]}}, settings, ports, resolve=public)
    assert "already exists" in ports.tasks.get(again.id).message  # the lower-case id is taken


def test_creating_a_task_needs_add_task_besides_tasks_api_access(config_dir):
    from image_import.errors import Forbidden
    from image_import.settings import load_settings

    (config_dir / "policy.yaml").write_text('"tasks_api_access": "role:admin"\n"add_task": "!"\n')
    ports = fake_ports()
    with pytest.raises(Forbidden, match="add_task"):
        create_task(ADMIN, LEGACY, load_settings(config_dir), ports, resolve=public)
    assert in_memory(ports.tasks) == [] and in_memory(ports.images) == []


def test_an_import_task_sends_task_create_once_when_recorded_then_task_run(settings):
    import dataclasses

    from tests.support.notifications import FlakyBus

    bus = FlakyBus(failures=0)
    ports = dataclasses.replace(fake_ports(), events=bus)
    created = create_task(ADMIN, LEGACY, settings, ports, resolve=public)
    task_events = [e["event_type"] for e in bus.published if e["payload"].get("id") == created.id]
    assert task_events == ["task.create", "task.run"]
