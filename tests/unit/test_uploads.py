"""Direct uploads against in-memory adapters: the presigned-URL request and the S3 event that stages."""

from __future__ import annotations

import dataclasses
import json

import pytest

from image_import.errors import BadRequest, Conflict, Forbidden, ImageNotFound, RequestEntityTooLarge
from image_import.images.catalog import create_image, delete_image
from image_import.intake import direct_upload
from image_import.intake.stage import stage_image
from image_import.models import RequestContext
from image_import.transfer.layout import image_id_of_upload, is_received_key, upload_key
from image_import.workflow.start import start_import
from tests.support.fakes import FakeWorkflow, fake_ports
from tests.support.uploads import MEMBER, new_image, uploaded

OTHER = RequestContext(user_id="eve", project_id="other", roles=["member", "reader"], request_id="req-eve")
MiB = 1024 * 1024


# ---------------------------------------------------------------- asking for URLs
def test_given_a_small_size_when_urls_are_asked_then_one_presigned_put_is_offered(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    offer = direct_upload.request_upload(MEMBER, image_id, {"size": 10}, settings, ports)
    assert offer.url == f"https://fake-s3/uploads/{image_id}?expires=900&length=10"  # signed with its length
    assert offer.upload_id is None and offer.part_urls == []


def test_given_a_large_size_when_urls_are_asked_then_a_multipart_upload_with_one_url_per_part_is_offered(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    offer = direct_upload.request_upload(MEMBER, image_id, {"size": 250 * MiB}, settings, ports)
    assert offer.url is None
    assert offer.part_size == 8 * MiB
    assert len(offer.part_urls) == 32  # ceil(250 / 8)
    assert offer.upload_id in ports.staging.multipart


def test_given_multipart_asked_for_when_urls_are_asked_then_even_a_small_image_gets_parts(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    offer = direct_upload.request_upload(MEMBER, image_id, {"size": 9 * MiB, "multipart": True}, settings, ports)
    assert len(offer.part_urls) == 2


def test_part_size_grows_so_that_a_terabyte_fits_in_ten_thousand_parts():
    size = 1024**4
    part = direct_upload.part_size_for(size)
    assert part % MiB == 0 and -(-size // part) <= 10_000


def test_given_import_asked_when_urls_are_asked_then_the_uploader_and_intent_are_recorded(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    direct_upload.request_upload(MEMBER, image_id, {"size": 3, "import": True}, settings, ports)
    intent = ports.images.get(image_id).upload
    assert intent.start_import is True and intent.size == 3
    assert intent.context == MEMBER


def test_given_another_project_when_it_asks_for_urls_of_a_shared_image_then_404(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    with pytest.raises(ImageNotFound):
        direct_upload.request_upload(OTHER, image_id, {"size": 3}, settings, ports)


def test_given_another_project_when_it_asks_for_urls_of_a_public_image_then_403(settings):
    ports = fake_ports()
    admin = RequestContext(user_id="admin", project_id="admin", roles=["admin"])
    image_id = create_image(
        admin, {"disk_format": "raw", "container_format": "bare", "visibility": "public"}, settings, ports
    ).id
    with pytest.raises(Forbidden):
        direct_upload.request_upload(OTHER, image_id, {"size": 3}, settings, ports)


def test_given_a_staged_image_when_urls_are_asked_then_409(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    stage_image(MEMBER, image_id, [b"abc"], None, settings, ports)
    with pytest.raises(Conflict, match="'queued'"):
        direct_upload.request_upload(MEMBER, image_id, {"size": 3}, settings, ports)


def test_given_no_formats_when_an_import_is_asked_with_the_urls_then_409(settings):
    ports = fake_ports()
    image_id = create_image(MEMBER, {"name": "x"}, settings, ports).id
    with pytest.raises(Conflict, match="container_format"):
        direct_upload.request_upload(MEMBER, image_id, {"size": 3, "import": True}, settings, ports)


def test_given_a_size_over_the_cap_when_urls_are_asked_then_413(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    with pytest.raises(RequestEntityTooLarge):
        direct_upload.request_upload(MEMBER, image_id, {"size": settings.image_size_cap + 1}, settings, ports)


@pytest.mark.parametrize(
    "body",
    [None, [], {}, {"size": "3"}, {"size": -1}, {"size": True}, {"size": 3, "import": "yes"}, {"size": 3, "x": 1}],
)
def test_given_a_malformed_request_when_urls_are_asked_then_400(settings, body):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    with pytest.raises(BadRequest):
        direct_upload.request_upload(MEMBER, image_id, body, settings, ports)


def test_given_a_second_multipart_request_then_the_first_upload_is_aborted(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    first = direct_upload.request_upload(MEMBER, image_id, {"size": 3, "multipart": True}, settings, ports)
    second = direct_upload.request_upload(MEMBER, image_id, {"size": 3, "multipart": True}, settings, ports)
    assert list(ports.staging.multipart) == [second.upload_id] != [first.upload_id]


def test_given_uploaded_parts_when_the_upload_is_completed_then_the_object_exists(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    offer = direct_upload.request_upload(MEMBER, image_id, {"size": 6, "multipart": True}, settings, ports)
    ports.staging.put_part(offer.upload_id, 1, b"abcdef")
    direct_upload.complete_upload(MEMBER, image_id, {"upload_id": offer.upload_id}, settings, ports)
    assert ports.staging.objects[upload_key(image_id)] == b"abcdef"


def test_given_another_upload_id_when_completing_then_409(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    direct_upload.request_upload(MEMBER, image_id, {"size": 6, "multipart": True}, settings, ports)
    with pytest.raises(Conflict):
        direct_upload.complete_upload(MEMBER, image_id, {"upload_id": "forged"}, settings, ports)


# ---------------------------------------------------------------- the event
def test_given_an_upload_when_its_event_arrives_then_the_image_is_uploading_with_its_size(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"abcdef")
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.STAGED
    image = ports.images.get(image_id)
    assert (image.status, image.size) == ("uploading", 6)
    assert is_received_key(image_id, image.staged_key) and ports.staging.objects == {image.staged_key: b"abcdef"}
    assert ports.workflow.started == []


def test_given_import_asked_when_the_event_arrives_then_the_import_starts_as_the_uploader_from_the_copy(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, start_import=True)
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.IMPORTING
    [(_, document)] = ports.workflow.started
    assert document["staging_key"] == ports.images.get(image_id).staged_key
    assert is_received_key(image_id, document["staging_key"])
    assert document["context"]["user_id"] == "demo"
    [task] = ports.tasks.for_image(image_id)
    assert task.request_id == "req-upload"


def test_given_a_replayed_event_then_nothing_is_started_twice(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, start_import=True)
    etag = ports.staging.etag(upload_key(image_id))
    direct_upload.receive_upload(upload_key(image_id), settings, ports, etag=etag)
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports, etag=etag) == direct_upload.DUPLICATE
    assert len(ports.workflow.started) == 1
    assert ports.images.get(image_id).staged_key in ports.staging.objects  # the staged data is kept


def test_given_a_crash_before_the_users_object_was_removed_when_the_event_is_retried_then_it_is_removed(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"abcdef", start_import=True)
    direct_upload.receive_upload(upload_key(image_id), settings, ports)
    ports.staging.put(upload_key(image_id), b"abcdef")  # as if the removal had not happened
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.DUPLICATE
    assert list(ports.staging.objects) == [ports.images.get(image_id).staged_key]
    assert len(ports.workflow.started) == 1 and len(ports.staging.copies) == 1  # not copied again


def test_given_an_import_that_failed_and_reverted_when_the_event_is_replayed_then_no_new_import_starts(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, start_import=True)
    direct_upload.receive_upload(upload_key(image_id), settings, ports)
    image = ports.images.get(image_id)
    image.status, image.import_lock = "uploading", None  # what revert leaves
    ports.images.save(image)
    ports.staging.put(upload_key(image_id), b"abcdef")  # the same object, still there
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.DUPLICATE
    assert len(ports.workflow.started) == 1


def test_given_a_workflow_that_could_not_start_when_the_event_is_retried_then_the_import_starts(settings):
    ports = fake_ports(FakeWorkflow(fail=RuntimeError("throttled")))
    image_id = uploaded(ports, settings, start_import=True)
    with pytest.raises(Exception, match="could not be started"):
        direct_upload.receive_upload(upload_key(image_id), settings, ports)
    assert upload_key(image_id) in ports.staging.objects  # kept until the import starts: the retry finds it
    ports.workflow.fail = None
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.IMPORTING
    assert upload_key(image_id) not in ports.staging.objects


def test_given_an_object_for_an_unknown_image_then_it_is_removed_and_nothing_starts(settings):
    ports = fake_ports()
    key = "uploads/6f1d8c1e-0000-4000-8000-000000000000"
    ports.staging.objects[key] = b"x"
    assert direct_upload.receive_upload(key, settings, ports) == direct_upload.REMOVED
    assert key not in ports.staging.objects and ports.workflow.started == []


def test_given_a_key_that_is_not_an_image_id_then_the_object_is_removed(settings):
    ports = fake_ports()
    ports.staging.objects["uploads/../etc"] = b"x"
    assert direct_upload.receive_upload("uploads/../etc", settings, ports) == direct_upload.REMOVED
    assert ports.staging.objects == {}


def test_given_an_active_image_when_an_object_arrives_for_it_then_it_is_removed(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings)
    image = ports.images.get(image_id)
    image.status = "active"
    ports.images.save(image)
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.REMOVED
    assert ports.images.get(image_id).status == "active"


def test_given_an_object_over_the_cap_then_it_is_removed_and_the_image_stays_queued(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"abcdef")
    settings = dataclasses.replace(settings, image_size_cap=5)
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.REMOVED
    assert ports.images.get(image_id).status == "queued"
    assert upload_key(image_id) not in ports.staging.objects


def test_given_an_object_of_another_size_than_announced_then_it_is_removed(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"abcdef")
    ports.staging.objects[upload_key(image_id)] = b"abc"
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.REMOVED
    assert ports.images.get(image_id).status == "queued"


def test_given_an_event_whose_object_is_gone_then_nothing_happens(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.GONE
    assert ports.images.get(image_id).status == "queued"


def test_given_a_stage_through_the_api_then_the_image_remembers_the_staging_key(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    stage_image(MEMBER, image_id, [b"abc"], None, settings, ports)
    assert ports.images.get(image_id).staged_key == f"staging/{image_id}"
    start_import(MEMBER, image_id, {"method": {"name": "glance-direct"}}, settings, ports)
    assert ports.workflow.started[0][1]["staging_key"] == f"staging/{image_id}"


@pytest.mark.parametrize("declared", ["-1", "+1", "1_0", "\u0661", "1.0", "", "0x10"])
def test_given_a_declared_size_that_is_not_decimal_digits_when_staging_then_400_and_the_data_is_never_read(
    settings, declared
):
    ports = fake_ports()
    image_id = new_image(ports, settings)

    def data():
        raise AssertionError("the body was read")
        yield b""

    with pytest.raises(BadRequest, match="x-openstack-image-size must be a non-negative integer"):
        stage_image(MEMBER, image_id, data(), declared, settings, ports)
    assert ports.staging.objects == {} and ports.images.get(image_id).status == "queued"


def test_given_a_declared_size_with_surrounding_blanks_when_staging_then_it_is_the_number(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    stage_image(MEMBER, image_id, [b"abc"], " 3 ", settings, ports)
    assert ports.images.get(image_id).size == 3


def test_given_a_direct_upload_when_the_image_is_deleted_then_its_uploaded_data_goes_too(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings)
    direct_upload.receive_upload(upload_key(image_id), settings, ports)
    delete_image(MEMBER, image_id, ports, settings)
    assert ports.staging.objects == {}


def test_given_an_unfinished_multipart_upload_when_the_image_is_deleted_then_the_upload_is_aborted(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    direct_upload.request_upload(MEMBER, image_id, {"size": 3, "multipart": True}, settings, ports)
    delete_image(MEMBER, image_id, ports, settings)
    assert ports.staging.multipart == {}


def test_image_ids_are_read_only_from_uploads_keys():
    image_id = "6f1d8c1e-0000-4000-8000-000000000000"
    assert image_id_of_upload(f"uploads/{image_id}") == image_id
    assert image_id_of_upload(f"staging/{image_id}") is None
    assert image_id_of_upload(f"uploads/{image_id}/x") is None


def test_s3_events_are_read_from_queue_messages_only_with_keys_decoded():
    record = {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "uploads%2Fa+b", "eTag": "e1"}}}
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent"}
    event = {
        "Records": [
            record,
            {"messageId": "m1", "body": json.dumps({"Records": [record]})},
            {"messageId": "m2", "body": json.dumps(test_event)},
        ]
    }
    # a bare S3 record (S3 invoking the function itself) is not a road the template builds: ignored
    assert list(direct_upload.upload_keys(event)) == [("m1", "uploads/a b", "e1")]


def test_given_internal_fields_in_a_create_body_then_they_are_not_taken_as_base_fields(settings):
    ports = fake_ports()
    image = create_image(MEMBER, {"staged_key": "uploads/x"}, settings, ports)
    assert image.staged_key is None and image.properties == {"staged_key": "uploads/x"}


def test_given_two_concurrent_deliveries_of_one_event_then_one_stages_and_one_import_starts(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, start_import=True)
    stale = ports.images.get(image_id)  # both deliveries read the queued image before either writes
    original_get, reads = ports.images.get, []

    def get(key):
        reads.append(key)
        return stale.model_copy(deep=True) if len(reads) == 1 else original_get(key)

    direct_upload.receive_upload(upload_key(image_id), settings, ports)
    ports.staging.put(upload_key(image_id), b"abcdef")  # the second delivery runs before the first removes it
    ports.images.get = get
    assert direct_upload.receive_upload(upload_key(image_id), settings, ports) == direct_upload.DUPLICATE
    assert len(ports.workflow.started) == 1
    assert list(ports.staging.objects) == [ports.images.get(image_id).staged_key]  # the loser's copy is gone


def test_given_an_event_for_the_services_own_staging_key_then_nothing_is_touched(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    stage_image(MEMBER, image_id, [b"abc"], None, settings, ports)
    assert direct_upload.receive_upload(f"staging/{image_id}", settings, ports) == direct_upload.IGNORED
    assert ports.staging.objects == {f"staging/{image_id}": b"abc"}


# ---------------------------------------------------------------- the verified bytes are the imported bytes
def handled(ports, settings, image_id):
    """The upload event of what ``uploads/<id>`` holds now, as S3 sends it (with the object's ETag)."""
    key = upload_key(image_id)
    return direct_upload.receive_upload(key, settings, ports, etag=ports.staging.etag(key))


def test_given_a_handled_upload_when_the_url_is_used_again_then_the_new_object_is_removed_and_the_first_kept(
    settings,
):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"first!")
    assert handled(ports, settings, image_id) == direct_upload.STAGED
    ports.staging.put(upload_key(image_id), b"second")  # the same length, through the same URL
    assert handled(ports, settings, image_id) == direct_upload.REMOVED
    image = ports.images.get(image_id)
    assert (image.status, image.size) == ("uploading", 6)
    assert ports.staging.objects == {image.staged_key: b"first!"}


def test_given_an_object_replaced_before_its_event_then_that_event_stages_nothing_and_the_next_one_decides(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"first!")
    first_etag = ports.staging.etag(upload_key(image_id))
    ports.staging.put(upload_key(image_id), b"second")  # a second PUT before the first event was handled
    outcome = direct_upload.receive_upload(upload_key(image_id), settings, ports, etag=first_etag)
    assert outcome == direct_upload.SUPERSEDED
    assert ports.images.get(image_id).status == "queued"
    assert ports.staging.objects == {upload_key(image_id): b"second"}  # left for its own event
    assert handled(ports, settings, image_id) == direct_upload.STAGED
    image = ports.images.get(image_id)
    assert ports.staging.objects == {image.staged_key: b"second"} and image.upload.etag == ports.staging.etag(
        image.staged_key
    )


def test_given_an_object_replaced_while_it_is_copied_then_nothing_is_staged(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings, b"first!")
    pinned_copy = ports.staging.copy

    def copy(source, target, etag, size, *, part_size):
        ports.staging.put(source, b"second")  # a PUT lands between the event's read and the copy
        return pinned_copy(source, target, etag, size, part_size=part_size)

    ports.staging.copy = copy
    assert handled(ports, settings, image_id) == direct_upload.SUPERSEDED
    assert ports.images.get(image_id).status == "queued"
    assert ports.staging.objects == {upload_key(image_id): b"second"}


def test_given_the_image_deleted_while_its_upload_is_copied_then_nothing_is_left(settings):
    ports = fake_ports()
    image_id = uploaded(ports, settings)
    pinned_copy = ports.staging.copy

    def copy(source, target, etag, size, *, part_size):
        copied = pinned_copy(source, target, etag, size, part_size=part_size)
        delete_image(MEMBER, image_id, ports, settings)
        return copied

    ports.staging.copy = copy
    assert handled(ports, settings, image_id) == direct_upload.REMOVED
    assert ports.staging.objects == {} and ports.workflow.started == []


def test_given_an_object_for_an_image_that_asked_for_no_urls_then_it_is_removed(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    ports.staging.put(upload_key(image_id), b"abc")
    assert handled(ports, settings, image_id) == direct_upload.REMOVED
    assert ports.images.get(image_id).status == "queued" and ports.staging.objects == {}


def test_given_a_multipart_upload_then_each_part_url_signs_its_own_length(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    offer = direct_upload.request_upload(MEMBER, image_id, {"size": 9 * MiB, "multipart": True}, settings, ports)
    assert [url.rsplit("&length=", 1)[1] for url in offer.part_urls] == [str(8 * MiB), str(MiB)]


def test_given_a_configured_url_lifetime_then_the_urls_expire_after_it(settings):
    ports = fake_ports()
    image_id = new_image(ports, settings)
    settings = dataclasses.replace(settings, upload_url_lifetime=60)
    offer = direct_upload.request_upload(MEMBER, image_id, {"size": 10}, settings, ports)
    assert offer.expires_in == 60 and "expires=60&" in offer.url


def test_part_lengths_cover_the_size_exactly():
    assert direct_upload.part_lengths(0, 8) == [0]
    assert direct_upload.part_lengths(8, 8) == [8]
    assert direct_upload.part_lengths(17, 8) == [8, 8, 1]


def test_the_sweeper_keeps_a_staged_copy_and_removes_a_copy_that_never_was_staged(settings):
    from datetime import UTC, datetime, timedelta

    from image_import.transfer.layout import received_key
    from image_import.workflow.sweeper import sweep

    ports = fake_ports()
    staged_id, stray_id = uploaded(ports, settings), uploaded(ports, settings)
    handled(ports, settings, staged_id)
    staged_key = ports.images.get(staged_id).staged_key
    stray = received_key(stray_id, "lost")  # a copy whose event crashed before staging it: its image is queued
    ports.staging.put(stray, b"abcdef")
    ports.staging.delete(upload_key(stray_id))
    sweep(ports, settings, clock=lambda: datetime.now(UTC) + timedelta(hours=1))
    assert list(ports.staging.objects) == [staged_key]


def test_a_direct_upload_is_copied_into_staging_in_parts_of_the_one_rule(settings):
    from image_import.transfer.parts import COPY_PART_SIZE

    ports = fake_ports()
    image_id = uploaded(ports, settings, b"abcdef", start_import=True)

    direct_upload.receive_upload(upload_key(image_id), settings, ports)

    assert ports.staging.part_sizes == [direct_upload.part_size_for(6, COPY_PART_SIZE)]
