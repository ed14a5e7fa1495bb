"""The one batch reader (adapters/records/table.py): every BatchGetItem asks again, backing off, for the keys
DynamoDB left unprocessed (throttled, or over 16 MB), whichever read it serves."""

from __future__ import annotations

from typing import Any

import pytest

from image_import.adapters.records import ImageIndexes, image_item, table
from image_import.models import Image


class StubDynamoDB:
    """Answers BatchGetItem with the first key of a request left unprocessed, once; the by-member index
    query with a membership row per image."""

    def __init__(self, images: list[Image], member: str = "p2"):
        self.items = {image.id: image_item(image) for image in images}
        self.rows = [{"image_id": {"S": image.id}, "member_of": {"S": member}} for image in images]
        self.requests: list[list[str]] = []
        self.left_one_out = False

    def get_paginator(self, operation: str) -> Any:
        assert operation == "query"
        rows = self.rows

        class Pages:
            def paginate(self, **_: Any) -> list[dict[str, Any]]:
                return [{"Items": rows}]

        return Pages()

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        [(table, request)] = RequestItems.items()
        ids = [key["id"]["S"] for key in request["Keys"]]
        self.requests.append(ids)
        unprocessed: dict[str, Any] = {}
        if not self.left_one_out:
            self.left_one_out = True
            unprocessed = {table: {**request, "Keys": request["Keys"][:1]}}
            ids = ids[1:]
        return {"Responses": {table: [self.items[i] for i in ids]}, "UnprocessedKeys": unprocessed}


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(table.time, "sleep", slept.append)
    return slept


def repository_over(stub: StubDynamoDB) -> ImageIndexes:
    repository = ImageIndexes("images")
    repository._dynamodb = lambda: stub  # type: ignore[method-assign]
    return repository


IMAGES = [Image(id=f"img-{n}", owner="p1", status="active") for n in range(3)]


def test_a_shared_list_asks_again_with_backoff_for_the_keys_left_unprocessed(sleeps):
    stub = StubDynamoDB(IMAGES)

    shared = [image.id for image in repository_over(stub).shared_with("p2")]

    assert shared == ["img-0", "img-1", "img-2"]  # the one left out the first time is there, in the index's order
    assert stub.requests == [["img-0", "img-1", "img-2"], ["img-0"]]
    assert len(sleeps) == 1 and sleeps[0] > 0


def test_a_lookup_by_ids_asks_again_with_backoff_for_the_keys_left_unprocessed(sleeps):
    stub = StubDynamoDB(IMAGES)

    found = repository_over(stub).by_ids(["img-0", "img-1", "img-2"])

    assert sorted(found) == ["img-0", "img-1", "img-2"]
    assert stub.requests == [["img-0", "img-1", "img-2"], ["img-0"]]
    assert len(sleeps) == 1 and sleeps[0] > 0
