"""The one read-change-write (adapters/records/table.py: Editable.edit) that every record change goes through."""

from __future__ import annotations

import pytest

from image_import.errors import ConcurrentUpdate, Forbidden
from image_import.models import Image
from tests.support.fakes import FakeRecords


def records_with(image: Image) -> FakeRecords:
    records = FakeRecords()
    records.create(image)
    return records


def beaten(records: FakeRecords, times: int) -> list[int]:
    """Another writer gets in before each of the next ``times`` saves; returns the list of lost saves."""
    real_save, lost = records.save, []

    def save(record):
        if len(lost) < times:
            lost.append(record.version)
            other = records.get(record.id)
            other.name = f"other writer {len(lost)}"
            real_save(other)
        real_save(record)

    records.save = save
    return lost


def rename(image: Image | None) -> bool:
    image.min_ram += 1
    return True


def test_given_no_other_writer_when_edited_then_the_change_is_saved_once_and_returned():
    records = records_with(Image(id="i"))
    saved = records.edit("i", rename, attempts=3)
    assert saved.min_ram == 1 and saved.version == 1
    assert records.get("i").min_ram == 1


def test_given_another_writer_first_when_edited_then_the_change_is_reapplied_to_what_is_there_now():
    records = records_with(Image(id="i"))
    lost = beaten(records, times=2)
    saved = records.edit("i", rename, attempts=3)
    assert len(lost) == 2
    stored = records.get("i")
    assert stored.min_ram == 1  # applied once, on the third read
    assert stored.name == "other writer 2"  # the other writers' changes are kept
    assert saved.version == stored.version


def test_given_the_change_checks_each_attempt_then_it_sees_each_fresh_read():
    records = records_with(Image(id="i"))
    beaten(records, times=1)
    seen: list[str | None] = []

    def check(image: Image | None) -> bool:
        seen.append(image.name)
        return True

    records.edit("i", check, attempts=3)
    assert seen == [None, "other writer 1"]


def test_when_the_change_says_false_then_nothing_is_saved_and_none_is_returned():
    records = records_with(Image(id="i"))
    assert records.edit("i", lambda image: False, attempts=3) is None
    assert records.get("i").version == 0


def test_given_no_record_then_the_change_gets_none_and_decides():
    records = FakeRecords()
    seen: list[Image | None] = []
    assert records.edit("gone", lambda image: seen.append(image), attempts=3) is None
    assert seen == [None]


def test_when_the_change_raises_then_the_error_propagates_and_nothing_is_saved():
    records = records_with(Image(id="i"))

    def refuse(image: Image | None) -> bool:
        image.min_ram = 99
        raise Forbidden("no")

    with pytest.raises(Forbidden):
        records.edit("i", refuse, attempts=3)
    assert records.get("i").min_ram == 0


def test_given_every_attempt_beaten_then_it_gives_up_with_concurrent_update():
    records = records_with(Image(id="i"))
    lost = beaten(records, times=99)
    with pytest.raises(ConcurrentUpdate):
        records.edit("i", rename, attempts=4)
    assert len(lost) == 4
    assert records.get("i").min_ram == 0


def test_given_the_record_deleted_between_read_and_write_then_the_next_attempt_sees_it_gone():
    records = records_with(Image(id="i"))
    real_save = records.save

    def save_after_delete(record):
        records.delete(record.id)
        real_save(record)

    records.save = save_after_delete
    seen: list[Image | None] = []

    def change(image: Image | None) -> bool:
        seen.append(image)
        return image is not None

    assert records.edit("i", change, attempts=3) is None
    assert seen[1] is None
