"""Which URIs web-download may fetch: Glance's ``[import_filtering_opts]``, then address checks.

Pure (the DNS lookup is passed in), so every rule is table-tested. Two layers:

1. Glance's lexical filter (``glance/common/utils.py validate_import_uri``), same defaults and
   precedence: at each level (scheme, host, port) a non-empty allow-list makes the deny-list
   ignored; hosts are canonical IP literals or names that resolve; numeric hosts in any spelling
   other than a dotted quad (``2130706433``, ``0x7f.1``, ``127.1``, ``017700000001``) are refused.
   Both the URI's host and the configured host lists are compared in one canonical spelling
   (``canonical_host``: IDNA, so U+3002 and the other IDNA full stops are dots; lower case; no
   root dot), so ``Host.``, ``host\u3002example`` or a mixed-case entry cannot slip past a list.
2. Beyond Glance (its pain point: SSRF): every address the host resolves to must be public
   unicast. Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast and
   reserved addresses, the cloud metadata service (169.254.169.254, fd00:ec2::254) and IPv4
   mapped into IPv6 are refused unless they fall in ``allowed_networks``.

The result names the address that was checked; the download connects to exactly that address
(no second lookup, so DNS rebinding cannot swap it), and every redirect goes through here again.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]

DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # a NAT64 gateway (AWS NAT gateways are) reaches the IPv4 inside
# what inet_aton would read as an IPv4 address: 1-4 parts, each decimal, octal or hex
_NUMERIC_HOST = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}\.?$")
_DOTTED_QUAD = re.compile(
    r"^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$"
)


class UriRejected(Exception):
    """The URI may not be downloaded from; ``reason`` says why (for logs and the task message)."""

    def __init__(self, uri: str, reason: str):
        super().__init__(f"{reason}: {uri}")
        self.uri, self.reason = uri, reason


@dataclass(frozen=True)
class FilterOptions:
    """``[import_filtering_opts]``; Glance's defaults, plus ``allowed_networks`` (ours)."""

    allowed_schemes: tuple[str, ...] = ("http", "https")
    disallowed_schemes: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    disallowed_hosts: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = (80, 443)
    disallowed_ports: tuple[int, ...] = ()
    # special-purpose addresses (loopback, private, metadata...) that may nevertheless be fetched
    allowed_networks: tuple[IPNetwork, ...] = ()

    def __post_init__(self) -> None:
        # compared in the same spelling as the URI's host; ValueError names a bad entry
        for name in ("allowed_hosts", "disallowed_hosts"):
            object.__setattr__(self, name, tuple(_canonical_entry(h) for h in getattr(self, name)))


@dataclass(frozen=True)
class Target:
    """A checked URI and the one address the download must connect to."""

    uri: str
    scheme: str
    host: str  # canonical_host of the URI's (for the Host header and TLS server name)
    port: int
    address: str
    path: str  # path and query, as sent in the request line


def check_uri(uri: str | None, options: FilterOptions, resolve: Resolver) -> Target:
    """The target to connect to, or UriRejected."""
    if not uri or not isinstance(uri, str):
        raise UriRejected(str(uri), "no URI given")
    if any(c.isspace() or ord(c) < 32 for c in uri):
        raise UriRejected(uri, "the URI contains whitespace or control characters")
    try:
        parts = urlsplit(uri)
        explicit_port = parts.port
    except ValueError:
        raise UriRejected(uri, "the URI does not parse") from None
    scheme = parts.scheme.lower()

    if not scheme:
        raise UriRejected(uri, "the URI has no scheme")
    if not _passes(scheme, options.allowed_schemes, options.disallowed_schemes):
        raise UriRejected(uri, f"scheme '{scheme}' is not allowed")
    if scheme not in DEFAULT_PORTS:
        raise UriRejected(uri, f"scheme '{scheme}' cannot be downloaded from (only http and https)")
    if parts.username is not None or parts.password is not None:
        raise UriRejected(uri, "credentials in the URI are not allowed")

    if not parts.hostname:
        raise UriRejected(uri, "the URI has no host")
    try:
        host = canonical_host(parts.hostname)
    except ValueError as exc:
        raise UriRejected(uri, f"host '{parts.hostname}' is not a valid host name: {exc}") from None
    literal = _ip_literal(host)
    if literal is None and _NUMERIC_HOST.match(host):
        raise UriRejected(uri, f"host '{host}' is a number that is not a dotted-quad IPv4 address")
    normalized = str(literal) if literal is not None else host
    if not _passes(normalized, options.allowed_hosts, options.disallowed_hosts):
        raise UriRejected(uri, f"host '{normalized}' is not allowed")

    if explicit_port is not None and not _passes(explicit_port, options.allowed_ports, options.disallowed_ports):
        raise UriRejected(uri, f"port {explicit_port} is not allowed")
    port = explicit_port if explicit_port is not None else DEFAULT_PORTS[scheme]

    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host)]
        except (OSError, ValueError):
            addresses = []
        if not addresses:
            raise UriRejected(uri, f"host '{host}' does not resolve")
    for address in addresses:
        # every address, not just the first: a name with one public and one internal address
        # must not be usable to reach the internal one
        problem = special_address(address, options.allowed_networks)
        if problem:
            raise UriRejected(uri, f"host '{host}' resolves to {problem} address {address}")

    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(uri=uri, scheme=scheme, host=host, port=port, address=str(addresses[0]), path=path)


def special_address(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """What kind of non-public address this is ('loopback', 'private'...), or None if fetchable."""
    if any(address.version == net.version and address in net for net in allowed):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:  # ::ffff:127.0.0.1, 2002:7f00:1:: and 64:ff9b::7f00:1 reach IPv4 addresses
            return special_address(embedded, allowed) or None
    for kind, test in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),  # includes the metadata service 169.254.169.254
        ("multicast", address.is_multicast),
        ("private", address.is_private),  # RFC 1918, ULA (fd00:ec2::254), documentation, benchmark
        ("reserved", address.is_reserved),
    ):
        if test:
            return kind
    if not address.is_global:  # CGNAT 100.64.0.0/10 and the like
        return "non-global"
    return None


# the full stops IDNA (RFC 3490 3.1) reads as label separators
_IDNA_DOTS = re.compile("[\u002e\u3002\uff0e\uff61]")


def canonical_host(host: str) -> str:
    """One spelling of a host name for comparisons and the lookup: IPv6 literals as they are,
    names as IDNA ASCII in lower case without the root dot. ValueError if it is no host name."""
    host = host.strip()
    if ":" in host:  # an IPv6 literal (urlsplit has taken the brackets off)
        return host.lower()
    labels = _IDNA_DOTS.split(host)
    if labels and labels[-1] == "":
        labels.pop()  # the root: "host." is "host"
    if not labels or any(label == "" for label in labels):
        raise ValueError("empty label")
    try:
        ascii_labels = [label.encode("idna").decode("ascii") for label in labels]
    except UnicodeError as exc:
        raise ValueError(str(exc)) from None
    return ".".join(ascii_labels).lower()


def _canonical_entry(entry: str) -> str:
    literal = _ip_literal(entry.strip().strip("[]"))
    if literal is not None:
        return str(literal)
    try:
        return canonical_host(entry)
    except ValueError as exc:
        raise ValueError(f"not a host name: {entry!r} ({exc})") from None


def _ip_literal(host: str) -> IPAddress | None:
    """A canonical IPv4 dotted quad or IPv6 literal; None for names and odd numeric spellings."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%")[0])
        except ValueError:
            return None
    if _DOTTED_QUAD.match(host):
        return ipaddress.IPv4Address(host)
    return None


def _passes(value, allowed, disallowed) -> bool:
    if allowed:  # Glance: a non-empty allow-list makes the deny-list irrelevant
        return value in allowed
    return value not in disallowed


def parse_networks(items: Sequence[str]) -> tuple[IPNetwork, ...]:
    """CIDR strings -> networks; ValueError names the bad item."""
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"not a network in CIDR form: {item!r}") from None
    return tuple(networks)


def system_resolver(host: str) -> list[str]:
    """All addresses of a name, as the download would find them."""
    import socket

    # the trailing dot stops the C library reading the name as a number (Glance does the same)
    infos = socket.getaddrinfo(host.rstrip(".") + ".", None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
