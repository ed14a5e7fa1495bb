"""The fetch adapter connects to the checked address, never to what the name resolves to now."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from image_import.adapters.web import WebFetcher
from image_import.policy.uri_filter import Target


class EchoHost(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = f"{self.headers['Host']} {self.path}".encode()
        self.send_response(302 if self.path == "/moved" else 200)
        self.send_header("Location", "http://elsewhere.example/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def port():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoHost)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def target(port: int, path: str = "/disk.img?v=1") -> Target:
    # a name that resolves nowhere: reaching the server proves no DNS lookup happened
    return Target(f"http://images.invalid:{port}{path}", "http", "images.invalid", port, "127.0.0.1", path)


def test_given_a_checked_target_when_fetched_then_the_pinned_address_is_used_with_the_uris_host_header(port):
    response = WebFetcher(timeout=5).get(target(port))
    try:
        assert response.status == 200
        assert b"".join(response.chunks()) == f"images.invalid:{port} /disk.img?v=1".encode()
    finally:
        response.close()


def test_given_a_redirect_when_fetched_then_it_is_returned_not_followed(port):
    response = WebFetcher(timeout=5).get(target(port, "/moved"))
    try:
        assert response.status == 302
        assert response.header("Location") == "http://elsewhere.example/"
    finally:
        response.close()


# ---------------------------------------------------------------- HTTPS: SNI and certificate check by the URI's host


def make_certificates(directory, server_name: str):
    """A throw-away CA (written to ca.pem) and a certificate it signed for ``server_name``."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, public_key, signing_key, *, ca: bool, san: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("test CA", "test CA", ca_key.public_key(), ca_key, ca=True)
    server = certificate(server_name, "test CA", server_key.public_key(), ca_key, ca=False, san=server_name)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(
        server.public_bytes(pem)
        + server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.pem", directory / "server.pem"


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """An HTTPS echo server on 127.0.0.1 holding a certificate for images.test; records the SNI it got."""
    import ssl

    ca, server_pem = make_certificates(tmp_path, "images.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the fetcher trusts the default store: make it our CA
    seen: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_pem)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), EchoHost)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


def https_target(port: int, host: str) -> Target:
    return Target(f"https://{host}:{port}/disk.img", "https", host, port, "127.0.0.1", "/disk.img")


def test_given_https_then_sni_and_the_certificate_check_use_the_uris_host_over_the_pinned_address(tls_server):
    port, seen = tls_server
    response = WebFetcher(timeout=5).get(https_target(port, "images.test"))  # images.test resolves nowhere
    try:
        assert response.status == 200
        assert b"".join(response.chunks()) == f"images.test:{port} /disk.img".encode()
    finally:
        response.close()
    assert seen == ["images.test"]


def test_given_https_to_a_host_the_certificate_does_not_name_then_the_fetch_fails(tls_server):
    import ssl

    port, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch|doesn't match|not valid"):
        WebFetcher(timeout=5).get(https_target(port, "other.test"))
