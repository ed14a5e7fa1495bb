"""The HTTP front door (serve_api) over real sockets."""

from __future__ import annotations

import hashlib
import http.client
import json
import os

import pytest
from image_import_dev.local.server import serve_api

ALLOW = {"X-Auth-Token": "allow"}


@pytest.fixture(scope="module")
def front_door(shared_stack):
    server = serve_api(shared_stack, port=0)
    yield server
    server.stop()


@pytest.fixture
def connection(front_door):
    host, port = front_door.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    yield connection
    connection.close()


def test_given_a_running_front_door_when_a_request_arrives_then_the_handlers_response_comes_back(connection):
    connection.request("GET", "/health?tag=a&tag=b", headers={"Host": "example.test"})
    response = connection.getresponse()

    echo = json.loads(response.read())
    assert response.status == 200
    assert (echo["resource"], echo["multiQuery"], echo["domainName"]) == (
        "/health",
        {"tag": ["a", "b"]},
        "example.test",
    )
    assert response.msg.get_all("X-Echo") == ["one", "two"]


def test_given_a_chunked_upload_of_a_few_mib_when_sent_then_the_handler_gets_every_byte(connection):
    chunks = [os.urandom(64 * 1024) for _ in range(48)]  # 3 MiB, no Content-Length
    headers = {**ALLOW, "Content-Type": "application/octet-stream"}

    connection.request("PUT", "/upload", body=iter(chunks), headers=headers, encode_chunked=True)
    echo = json.loads(connection.getresponse().read())

    assert (echo["length"], echo["sha256"]) == (3 * 1024 * 1024, hashlib.sha256(b"".join(chunks)).hexdigest())


def test_given_keep_alive_when_several_requests_follow_then_one_connection_serves_them_all(connection):
    answers, sockets = [], []
    for body in (b"first", b"second body", b""):
        connection.request("POST", "/things", body=body, headers=ALLOW)
        answers.append(json.loads(connection.getresponse().read())["length"])
        sockets.append(connection.sock)  # http.client drops it (None) when the server closes the connection

    assert answers == [5, 11, 0]
    assert sockets[0] is not None and all(s is sockets[0] for s in sockets)


def test_given_a_head_request_when_answered_then_headers_come_without_a_body_and_the_connection_goes_on(connection):
    connection.request("HEAD", "/anything", headers=ALLOW)
    head = connection.getresponse()
    assert (head.status, head.read()) == (200, b"")
    assert int(head.headers["Content-Length"]) > 0

    connection.request("GET", "/health")
    assert connection.getresponse().status == 200


def test_given_a_base64_result_when_answered_then_the_client_gets_the_decoded_bytes(connection):
    connection.request(
        "POST", "/binary", body=b"\x00\x01\xfe\xff", headers={**ALLOW, "Content-Type": "application/octet-stream"}
    )

    assert connection.getresponse().read() == b"\x00\x01\xfe\xff"


def test_given_no_token_when_a_protected_route_is_asked_over_http_then_401(connection):
    connection.request("GET", "/items/1")
    response = connection.getresponse()

    assert (response.status, json.loads(response.read())) == (401, {"message": "Unauthorized"})


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "PROPFIND", "FOO"])
def test_given_a_method_http_server_does_not_know_when_sent_then_the_api_answers_it_not_a_501(connection, method):
    # an ANY route takes every method to the handler, which (the image API) answers 405 with Allow as Glance
    connection.request(method, "/things", headers=ALLOW)
    response = connection.getresponse()
    echo = json.loads(response.read())
    assert response.status == 200
    assert (echo["httpMethod"], echo["path"]) == (method, "/things")
