"""A project's image list reads DynamoDB indexes, never the whole table; membership rows follow the members."""

from __future__ import annotations

import boto3
import botocore.client
import pytest

from tests.support.api import Api

OWNER_PROJECT, OTHER_PROJECT = "demo", "alt"  # member-token's and other-token's projects (config/local-tokens.yaml)


@pytest.fixture
def other(stack) -> Api:
    return Api(stack, "other-token")


@pytest.fixture
def dynamodb_calls(monkeypatch) -> list[str]:
    """Every DynamoDB operation any client in this process makes (the API function's included)."""
    calls: list[str] = []
    real = botocore.client.BaseClient._make_api_call

    def recording(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def listed(api, **query) -> set[str]:
    reply = api.call("GET", "/v2/images", query={k: [v] for k, v in query.items()})
    assert reply.status == 200, reply.text
    return {i["id"] for i in reply.json["images"]}


def membership_rows(stack, image_id: str) -> list[dict]:
    table = stack.physical_name("ImagesTable")
    items = boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return [i for i in items if i.get("image_id", {}).get("S") == image_id and "member_of" in i]


def test_a_projects_list_queries_the_indexes_and_never_scans(member, other, admin, dynamodb_calls):
    mine = member.create(visibility="private")["id"]
    public = admin.create(visibility="public")["id"]
    shared = other.create(visibility="shared")["id"]
    assert other.call("POST", f"/v2/images/{shared}/members", {"member": OWNER_PROJECT}).status == 200
    assert member.call("PUT", f"/v2/images/{shared}/members/{OWNER_PROJECT}", {"status": "accepted"}).status == 200
    others_private = other.create(visibility="private")["id"]
    dynamodb_calls.clear()
    seen = listed(member)
    assert {mine, public, shared} <= seen and others_private not in seen
    assert "Scan" not in dynamodb_calls and "Query" in dynamodb_calls


def test_an_admins_list_is_every_image_but_never_a_membership_row(admin, member, other, stack):
    shared = member.create(visibility="shared")["id"]
    assert member.call("POST", f"/v2/images/{shared}/members", {"member": OTHER_PROJECT}).status == 200
    assert membership_rows(stack, shared)  # the row is there...
    reply = admin.call("GET", "/v2/images", query={"limit": ["1000"]})
    assert reply.status == 200
    ids = [i["id"] for i in reply.json["images"]]
    assert shared in ids and all("/" not in i for i in ids)  # ...and never listed as an image


@pytest.mark.parametrize(
    ("visibility", "listed_to_other"),
    [(None, {"public"}), ("community", {"community"}), ("all", {"public", "community"}), ("private", set())],
)
def test_what_another_project_lists_by_visibility(member, other, admin, visibility, listed_to_other):
    created = {v: member.create(visibility=v)["id"] for v in ("community", "private", "shared")}
    created["public"] = admin.create(visibility="public")["id"]  # publicize_image is admin's
    query = {} if visibility is None else {"visibility": visibility}
    assert {v for v, i in created.items() if i in listed(other, **query)} == listed_to_other
    owner_sees = {v for v, i in created.items() if i in listed(member, **query)}
    assert owner_sees == ({"public", "community", "private", "shared"} if visibility in (None, "all") else {visibility})


def test_membership_rows_follow_the_members_and_go_with_the_image(member, other, stack):
    image = member.create(visibility="shared")["id"]
    assert member.call("POST", f"/v2/images/{image}/members", {"member": OTHER_PROJECT}).status == 200
    assert member.call("POST", f"/v2/images/{image}/members", {"member": "third"}).status == 200
    assert sorted(r["member_of"]["S"] for r in membership_rows(stack, image)) == [OTHER_PROJECT, "third"]
    assert member.call("DELETE", f"/v2/images/{image}/members/third").status == 204
    assert [r["member_of"]["S"] for r in membership_rows(stack, image)] == [OTHER_PROJECT]
    assert other.call("PUT", f"/v2/images/{image}/members/{OTHER_PROJECT}", {"status": "accepted"}).status == 200
    assert image in listed(other)
    assert member.call("DELETE", f"/v2/images/{image}").status == 204
    assert membership_rows(stack, image) == [] and image not in listed(other)


def test_more_members_than_one_transaction_holds_are_indexed_and_removed(stack, other):
    # Glance's default image_member_quota is 128; TransactWriteItems takes 100 writes
    from image_import.adapters.records import ImageRepository
    from image_import.models import Image
    from image_import.models.image import ImageMember

    images = ImageRepository(stack.physical_name("ImagesTable"))
    image = Image(id="5d0e3c4a-0000-4000-8000-000000000128", owner=OWNER_PROJECT, visibility="shared")
    images.create(image)
    image = images.get(image.id)
    projects = [OTHER_PROJECT, *(f"project-{n:03d}" for n in range(127))]
    image.members = {p: ImageMember(status="accepted") for p in projects}
    images.save(image)
    assert len(membership_rows(stack, image.id)) == 128
    assert image.id in listed(other)  # the first project's row went in the transaction, the last ones after
    last = images.get(image.id)
    del last.members["project-126"]
    images.save(last)
    assert "project-126" not in {r["member_of"]["S"] for r in membership_rows(stack, image.id)}
    images.delete(image.id)
    assert membership_rows(stack, image.id) == []


@pytest.fixture
def items_read(monkeypatch) -> list[tuple[str, int]]:
    """Each DynamoDB Query or Scan and how many items it answered (a list reads the indexes a page at a time)."""
    read: list[tuple[str, int]] = []
    real = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        answer = real(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb" and operation in ("Query", "Scan"):
            read.append((operation, len(answer.get("Items", []))))
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)
    return read


def test_a_page_of_the_default_order_reads_one_page_of_each_index_from_the_marker(stack, admin, member, items_read):
    """An admin (every image) and a project: pages in Glance's order (created_at, id, newest first), each
    read from the marker on, a page of the index at most (not every image there is)."""
    import uuid

    from image_import.adapters.records import LIST_PAGE, image_item
    from image_import.models import Image

    table = stack.physical_name("ImagesTable")
    stamps = [f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z" for n in range(300)]
    images = [Image(id=str(uuid.uuid4()), owner="demo", created_at=s, updated_at=s) for s in stamps[:250]]
    images += [Image(id=str(uuid.uuid4()), owner="demo", created_at=stamps[0], updated_at=stamps[0]) for _ in range(50)]
    dynamodb = boto3.client("dynamodb")
    for start in range(0, len(images), 25):
        batch = [{"PutRequest": {"Item": image_item(i)}} for i in images[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})
    expected = [i.id for i in sorted(images, key=lambda i: (i.created_at, i.id), reverse=True)]
    for api in (admin, member):
        pages, marker = [], None
        while True:
            items_read.clear()
            query = {"limit": ["40"], **({"marker": [marker]} if marker else {})}
            reply = api.call("GET", "/v2/images", query=query)
            assert reply.status == 200, reply.text
            assert {op for op, _ in items_read} == {"Query"}
            assert sum(n for _, n in items_read) <= 2 * LIST_PAGE  # a page of an index, not every image there is
            pages.append([i["id"] for i in reply.json["images"]])
            marker = reply.json.get("next", "").partition("marker=")[2] or None
            if marker is None:
                break
        assert [i for page in pages for i in page] == expected  # ties on created_at by id, as Glance
        assert all(len(page) == 40 for page in pages[:-1])
    ascending = admin.call("GET", "/v2/images", query={"sort_dir": ["asc"], "limit": ["3"]}).json["images"]
    assert [i["id"] for i in ascending] == expected[::-1][:3]


def test_the_task_list_pages_through_its_indexes_and_never_scans(stack, admin, items_read):
    import uuid

    from image_import.adapters.records import TaskRepository
    from image_import.models import Task

    tasks = TaskRepository(stack.physical_name("TasksTable"))
    made = []
    for n in range(7):
        stamp = f"2026-01-01T00:00:0{n % 3}Z"  # ties on created_at: ordered by id, as Glance
        task = Task(id=str(uuid.uuid4()), owner="demo", image_id=str(uuid.uuid4()), created_at=stamp, updated_at=stamp)
        tasks.create(task)
        made.append(task)
    expected = [t.id for t in sorted(made, key=lambda t: (t.created_at, t.id), reverse=True)]
    first = admin.call("GET", "/v2/tasks", query={"limit": ["4"]})
    assert first.status == 200, first.text
    marker = first.json["next"].partition("marker=")[2]
    rest = admin.call("GET", "/v2/tasks", query={"limit": ["4"], "marker": [marker]}).json["tasks"]
    assert [t["id"] for t in first.json["tasks"] + rest] == expected
    assert {op for op, _ in items_read} == {"Query"}
