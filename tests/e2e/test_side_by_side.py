"""The local stack serves calls side by side, as Lambda does (issue 11): a large stage does not make
every other image call wait. Over HTTP, against the local stack as a user runs it."""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

import pytest
from image_import_dev.local.runtime import LARGE_REQUESTS_VARIABLE

from tests.support.e2e import start_local_service

STAGE_MIB = 200  # big enough that its handler runs for seconds here (about 8 s for 200 MiB on this box)


@pytest.fixture
def service(service_config, tmp_path):
    """The local stack serving requests over Lambda's 6 MB, which it refuses by default as AWS does: a
    stage that keeps its handler busy for seconds is this test's subject, not the payload limit."""
    running = start_local_service(service_config, tmp_path, env={LARGE_REQUESTS_VARIABLE: "1"})
    try:
        yield running
    finally:
        running.stack.stop()


def test_given_a_large_stage_in_flight_when_another_image_is_read_then_it_answers_within_a_second(service):
    status, _, other = service.request("POST", "/v2/images", body={"disk_format": "raw", "container_format": "bare"})
    assert status == 201
    status, _, staged = service.request("POST", "/v2/images", body={"disk_format": "raw", "container_format": "bare"})
    assert status == 201
    stage = _StageInFlight(service.url, service.token, staged["id"], STAGE_MIB << 20)
    stage.start()
    assert stage.body_sent.wait(120), "the stage body was never sent"

    # Given the stage's handler is mid-write: the image is claimed (uploading) and has no size yet;
    # when the other image is read then, it answers within a second
    answers: list[tuple[float, int]] = []
    mid_write_seen = False
    while not stage.answered.is_set():
        status, _, image = service.request("GET", f"/v2/images/{staged['id']}")
        if stage.answered.is_set():
            break
        if status == 200 and image["status"] == "uploading" and image["size"] is None:
            mid_write_seen = True
            started = time.monotonic()
            status, _, _ = service.request("GET", f"/v2/images/{other['id']}")
            answers.append((round(time.monotonic() - started, 3), status))
    stage.join(120)

    assert stage.status == 204, service.logs()[-3000:]
    assert mid_write_seen, "no call was answered while the stage's handler ran: calls still take turns"
    fast = [seconds for seconds, status in answers if status == 200 and seconds < 1.0]
    assert fast, f"no GET of another image answered within 1 s during the stage: {answers}"


class _StageInFlight(threading.Thread):
    """PUT /v2/images/<id>/stage of ``size`` bytes, sent in 1 MiB writes; ``body_sent``, then ``answered``."""

    def __init__(self, url: str, token: str, image_id: str, size: int):
        super().__init__(daemon=True)
        self.url, self.token, self.image_id, self.size = urlsplit(url), token, image_id, size
        self.body_sent, self.answered = threading.Event(), threading.Event()
        self.status: int | None = None

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=300)
        try:
            connection.putrequest("PUT", f"/v2/images/{self.image_id}/stage")
            connection.putheader("X-Auth-Token", self.token)
            connection.putheader("Content-Type", "application/octet-stream")
            connection.putheader("Content-Length", str(self.size))
            connection.endheaders()
            chunk = b"\0" * (1 << 20)
            for _ in range(self.size // len(chunk)):
                connection.send(chunk)
            self.body_sent.set()
            response = connection.getresponse()
            response.read()
            self.status = response.status
        finally:
            connection.close()
            self.body_sent.set()
            self.answered.set()
