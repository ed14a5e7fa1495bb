"""One HTTP(S) GET to the address the URI filter checked: no second DNS lookup, no auto-redirects.

The connection goes to ``target.address`` while the Host header, the TLS server name (SNI) and
the certificate check use the host named in the URI. Redirects come back to the caller, which
checks each ``Location`` before following it.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator

from image_import.policy.uri_filter import Target

CHUNK_SIZE = 1024 * 1024
TIMEOUT_SECONDS = 30.0
USER_AGENT = "glance-import-serverless web-download"


class _Pinned:
    """Mixin: open the socket to the checked address, whatever the host name resolves to now."""

    pinned_address: str

    def _pinned_create_connection(self, address, timeout=None, source_address=None):
        _, port = address
        return socket.create_connection((self.pinned_address, port), timeout, source_address)


class PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.pinned_address = target.address
        self._create_connection = self._pinned_create_connection


class PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.pinned_address = target.address
        self._create_connection = self._pinned_create_connection


class WebResponse:
    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse):
        self._connection, self._response = connection, response
        self.status = response.status

    def header(self, name: str) -> str | None:
        return self._response.getheader(name)

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        while chunk := self._response.read(chunk_size):
            yield chunk

    def close(self) -> None:
        self._connection.close()


class WebFetcher:
    """GET a checked target; the caller reads, then closes, the response."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS):
        self.timeout = timeout

    def get(self, target: Target, headers: dict[str, str] | None = None) -> WebResponse:
        """``headers`` adds to ours, e.g. ``Range`` and ``If-Range`` for a pass of a download."""
        cls = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
        connection = cls(target, self.timeout)
        try:
            sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
            connection.request("GET", target.path, headers=sent)
            return WebResponse(connection, connection.getresponse())
        except BaseException:
            connection.close()
            raise
