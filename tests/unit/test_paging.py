"""A list page ends at its limit or before its bytes pass a budget (issue 21): paging.take, and the bytes
a page takes in the Lambda response as api/views.py counts them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from image_import.api.views import PAGE_BYTES, encoded_size, item_size, page, page_budget
from image_import.images import paging


@dataclass
class Record:
    id: str
    size: int = 1


def records(*sizes: int) -> list[Record]:
    return [Record(f"r{n}", size) for n, size in enumerate(sizes)]


def size_of(record: Record) -> int:
    return record.size


def ids(page_: list[Record]) -> list[str]:
    return [r.id for r in page_]


def every_page(all_records: list[Record], limit: int, budget: int) -> list[list[str]]:
    """Follow the markers from the start, as a client follows ``next``."""
    pages, marker = [], None
    while True:
        found, marker = paging.page_after(all_records, marker, limit, "Image", size_of, budget)
        pages.append(ids(found))
        if marker is None:
            return pages


def test_given_no_budget_when_a_page_is_taken_then_it_ends_at_its_limit_with_a_marker():
    page_, marker = paging.take(records(5, 5, 5), 2)

    assert (ids(page_), marker) == (["r0", "r1"], "r1")


def test_given_fewer_records_than_the_limit_when_taken_then_there_is_no_marker():
    page_, marker = paging.take(records(5, 5), 3, size_of, 100)

    assert (ids(page_), marker) == (["r0", "r1"], None)


def test_given_a_budget_when_the_next_record_would_pass_it_then_the_page_ends_before_it_with_a_marker():
    page_, marker = paging.take(records(4, 4, 4, 4), 25, size_of, 10)

    assert (ids(page_), marker) == (["r0", "r1"], "r1")


def test_given_a_record_exactly_at_the_budget_when_taken_then_it_is_on_the_page():
    page_, _ = paging.take(records(4, 6, 1), 25, size_of, 10)

    assert ids(page_) == ["r0", "r1"]


def test_given_a_first_record_over_the_budget_when_taken_then_the_page_holds_it_alone():
    page_, marker = paging.take(records(50, 1), 25, size_of, 10)

    assert (ids(page_), marker) == (["r0"], "r0")


def test_given_a_full_page_when_taken_then_no_record_beyond_its_last_is_read():
    read: list[str] = []

    def stream():
        for record in records(1, 1, 1, 1):
            read.append(record.id)
            yield record

    paging.take(stream(), 2, size_of, 100)

    assert read == ["r0", "r1"]


def test_given_pages_cut_by_bytes_when_the_markers_are_followed_then_every_record_comes_once_in_order():
    all_records = records(3, 9, 2, 2, 7, 1, 1, 1, 10, 4)

    pages = every_page(all_records, limit=4, budget=10)

    assert [r for p in pages for r in p] == ids(all_records)
    for p in pages:
        assert len(p) == 1 or sum(r.size for r in all_records if r.id in p) <= 10


def test_encoded_size_is_what_a_document_adds_to_the_proxy_responses_json():
    document = {"name": 'quote " backslash \\ newline \n', "unicode": "\u00e9\U0001f600", "ctl": "\x01", "n": 1}

    proxy = json.dumps({"statusCode": 200, "body": json.dumps(document)})
    empty = json.dumps({"statusCode": 200, "body": ""})

    assert encoded_size(document) == len(proxy.encode()) - len(empty.encode())


def test_given_items_within_the_page_budget_when_the_page_is_built_then_its_body_is_within_page_bytes():
    params = {"visibility": ["all"], "limit": ["1000"]}
    items = [{"id": f"{n:036d}", "blob": '"\\' * 50_000} for n in range(200)]
    budget = page_budget("images", params)
    kept, used = [], 0
    for item in items:
        used += item_size(item)
        if used > budget:
            break
        kept.append(item)

    body = page("images", kept, params, "f" * 36)

    assert 0 < len(kept) < len(items)
    assert PAGE_BYTES - 4 * 50_000 < encoded_size(body) <= PAGE_BYTES
