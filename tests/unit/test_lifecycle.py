"""The image lifecycle (models/lifecycle.py): every status move the service makes, by name."""

from __future__ import annotations

import pytest

from image_import.models import Image, lifecycle
from image_import.models.lifecycle import IllegalTransition


@pytest.mark.parametrize(
    "start, transition, to, end",
    [
        ("queued", "stage", None, "uploading"),
        ("uploading", "unstage", None, "queued"),
        ("queued", "save", None, "saving"),
        ("saving", "saved", None, "active"),
        ("saving", "unsave", None, "queued"),
        ("queued", "import", None, "importing"),
        ("uploading", "import", None, "importing"),
        ("importing", "release", "uploading", "uploading"),
        ("importing", "release", "queued", "queued"),
        ("importing", "activate", None, "active"),
        ("importing", "revert", "uploading", "uploading"),
        ("importing", "revert", "queued", "queued"),
        ("active", "deactivate", None, "deactivated"),
        ("deactivated", "reactivate", None, "active"),
    ],
)
def test_each_named_move_goes_where_the_table_says(start, transition, to, end):
    image = Image(id="i", status=start)
    lifecycle.move(image, transition, to=to)
    assert image.status == end


@pytest.mark.parametrize(
    "start, transition, to",
    [
        ("active", "import", None),  # the import's gates refuse it first: reaching here is a bug
        ("uploading", "activate", None),
        ("queued", "revert", "queued"),
        ("importing", "revert", "active"),  # not a destination of the revert
        ("importing", "release", None),  # two destinations: the caller must say which
    ],
)
def test_a_move_the_table_does_not_have_is_an_internal_error_and_changes_nothing(start, transition, to):
    image = Image(id="i", status=start)
    with pytest.raises(IllegalTransition):
        lifecycle.move(image, transition, to=to)
    assert image.status == start


def test_a_new_image_is_queued():
    assert lifecycle.INITIAL == "queued" == Image(id="i").status


def test_before_an_import_an_image_was_uploading_while_staged_data_exists_else_queued():
    assert lifecycle.status_before_import(staged=True) == "uploading"
    assert lifecycle.status_before_import(staged=False) == "queued"
