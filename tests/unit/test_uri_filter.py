"""web-download URI filtering: Glance's lists and precedence, then the address checks we add."""

from __future__ import annotations

import ipaddress

import pytest

from image_import.policy.uri_filter import FilterOptions, UriRejected, check_uri, parse_networks

PUBLIC = "93.184.216.34"
NAMES = {
    "images.example.com": [PUBLIC],
    "rebind.example.com": ["127.0.0.1"],
    "split.example.com": [PUBLIC, "10.0.0.5"],
    "metadata.example.com": ["fd00:ec2::254"],
    "xn--bcher-kva.example.com": [PUBLIC],
}


def resolve(host: str) -> list[str]:
    # as the system resolver: IDNA (which reads U+3002 and friends as dots), any case, a root dot
    try:
        name = host.encode("idna").decode("ascii").rstrip(".").lower()
    except UnicodeError:
        raise OSError("Name or service not known") from None
    if name not in NAMES:
        raise OSError("Name or service not known")
    return NAMES[name]


def options(**changes) -> FilterOptions:
    return FilterOptions(**changes)


def test_given_glance_defaults_when_a_public_https_uri_is_checked_then_its_resolved_address_is_the_target():
    target = check_uri("https://images.example.com/disk.img?x=1", options(), resolve)
    assert (target.scheme, target.host, target.port, target.address, target.path) == (
        "https",
        "images.example.com",
        443,
        PUBLIC,
        "/disk.img?x=1",
    )


@pytest.mark.parametrize(
    "uri, opts",
    [
        ("ftp://images.example.com/x", options()),  # default allowed_schemes = [http, https]
        ("file:///etc/passwd", options()),
        ("images.example.com/x", options()),  # no scheme
        ("http://images.example.com/x", options(allowed_schemes=("https",))),
        ("http://images.example.com/x", options(allowed_schemes=(), disallowed_schemes=("http",))),
        ("gopher://images.example.com/x", options(allowed_schemes=(), disallowed_schemes=("http",))),
        ("http:///x", options()),  # no host
        ("http://does-not.exist/x", options()),  # does not resolve
        ("http://images.example.com/x", options(allowed_hosts=("other.example.com",))),
        ("http://images.example.com/x", options(disallowed_hosts=("images.example.com",))),
        ("http://93.184.216.34/x", options(disallowed_hosts=("93.184.216.34",))),
        ("http://images.example.com:8080/x", options()),  # default allowed_ports = [80, 443]
        ("http://images.example.com:443/x", options(allowed_ports=(), disallowed_ports=(443,))),
        ("http://images.example.com:99999/x", options()),  # not a port
        ("http://user:secret@images.example.com/x", options()),
        ("", options()),
        (None, options()),
    ],
)
def test_given_glances_lists_when_a_uri_fails_them_then_it_is_rejected(uri, opts):
    with pytest.raises(UriRejected):
        check_uri(uri, opts, resolve)


@pytest.mark.parametrize(
    "uri, opts",
    [
        # an allow-list makes the deny-list of the same level irrelevant (Glance's precedence)
        ("http://images.example.com/x", options(allowed_schemes=("http",), disallowed_schemes=("http",))),
        ("http://images.example.com/x", options(allowed_hosts=("images.example.com",), disallowed_hosts=("images.example.com",))),
        ("http://images.example.com:8080/x", options(allowed_ports=(8080,), disallowed_ports=(8080,))),
        # no explicit port: the scheme's default is always fine
        ("http://images.example.com/x", options(allowed_ports=(8080,))),
        ("http://images.example.com:8080/x", options(allowed_ports=(), disallowed_ports=(80,))),
    ],
)  # fmt: skip
def test_given_an_allow_list_when_a_uri_matches_it_then_the_deny_list_is_ignored(uri, opts):
    assert check_uri(uri, opts, resolve).host


@pytest.mark.parametrize(
    "uri, why",
    [
        ("http://2130706433/", "is a number"),  # decimal 127.0.0.1
        ("http://017700000001/", "is a number"),  # octal
        ("http://0177.0.0.01/", "is a number"),
        ("http://0x7f.1/", "is a number"),  # hex, short form
        ("http://127.1/", "is a number"),
        ("http://2852039166/", "is a number"),  # decimal 169.254.169.254
        ("http://0xa9fea9fe/", "is a number"),
        ("http://127.0.0.1/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped IPv6
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),  # NAT64 to 169.254.169.254
        ("http://[2002:a00:1::]/", "private"),  # 6to4 of 10.0.0.1
        ("http://169.254.169.254/latest/meta-data/", "link-local"),  # the metadata service
        ("http://[fd00:ec2::254]/", "private"),  # the metadata service over IPv6
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fc00::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://100.64.0.1/", "non-global"),  # CGNAT
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://rebind.example.com/", "loopback"),  # a name resolving to 127.0.0.1
        ("http://split.example.com/", "private"),  # one of its addresses is internal
        ("http://metadata.example.com/", "private"),
    ],
)
def test_given_default_options_when_the_host_is_special_or_numerically_encoded_then_it_is_rejected(uri, why):
    with pytest.raises(UriRejected, match=why):
        check_uri(uri, options(), resolve)


def test_given_loopback_allowed_by_network_when_a_loopback_uri_is_checked_then_it_passes():
    allowed = options(allowed_networks=parse_networks(["127.0.0.0/8"]), allowed_ports=(8080,))
    assert check_uri("http://127.0.0.1:8080/x", allowed, resolve).address == "127.0.0.1"
    assert check_uri("http://rebind.example.com:8080/x", allowed, resolve).address == "127.0.0.1"


def test_given_loopback_allowed_when_the_metadata_address_is_used_then_it_is_still_rejected():
    allowed = options(allowed_networks=parse_networks(["127.0.0.0/8"]))
    with pytest.raises(UriRejected, match="link-local"):
        check_uri("http://169.254.169.254/", allowed, resolve)


def test_given_an_allowed_network_when_an_encoded_spelling_of_it_is_used_then_it_is_still_rejected():
    allowed = options(allowed_networks=parse_networks(["127.0.0.0/8"]))
    with pytest.raises(UriRejected, match="is a number"):
        check_uri("http://2130706433/", allowed, resolve)


def test_given_a_bad_network_when_parsed_then_the_error_names_it():
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        parse_networks(["10.0.0.0/33"])


def test_given_an_ipv6_literal_when_checked_then_the_host_is_canonicalised_for_the_lists():
    denied = options(
        disallowed_hosts=(str(ipaddress.ip_address("2001:db8::1")),), allowed_networks=parse_networks(["2001:db8::/32"])
    )
    with pytest.raises(UriRejected, match="not allowed"):
        check_uri("http://[2001:0db8:0:0::1]/", denied, resolve)


DENIED = options(disallowed_hosts=("images.example.com",))


@pytest.mark.parametrize(
    "uri, opts",
    [
        ("http://images.example.com./x", DENIED),  # a root dot
        ("http://images\u3002example\u3002com/x", DENIED),  # ideographic full stops
        ("http://images\uff0eexample\uff0ecom/x", DENIED),  # fullwidth full stops
        ("http://images\uff61example.com/x", DENIED),  # halfwidth ideographic full stop
        ("http://IMAGES.Example.COM/x", DENIED),
        ("http://images.example.com/x", options(disallowed_hosts=("Images.EXAMPLE.com",))),  # mixed-case entry
        ("http://images.example.com/x", options(disallowed_hosts=("images.example.com.",))),  # entry with root dot
        ("http://b\u00fccher.example.com/x", options(disallowed_hosts=("xn--bcher-kva.example.com",))),
        ("http://xn--bcher-kva.example.com/x", options(disallowed_hosts=("B\u00fccher.example.com",))),
        ("http://93.184.216.34./x", options(disallowed_hosts=("93.184.216.34",))),
        ("http://93\u3002184\u3002216\u300234/x", options(disallowed_hosts=("93.184.216.34",))),
        ("http://other.example.com./x", options(allowed_hosts=("images.example.com",))),
    ],
)
def test_given_host_lists_when_the_host_is_spelled_another_way_then_the_lists_still_apply(uri, opts):
    with pytest.raises(UriRejected):
        check_uri(uri, opts, resolve)


@pytest.mark.parametrize(
    "uri",
    [
        "http://images.example.com./x",
        "http://IMAGES.example.com/x",
        "http://images\u3002example\u3002com/x",
    ],
)
def test_given_an_allow_list_entry_when_the_host_is_spelled_another_way_then_it_is_allowed(uri):
    opts = options(allowed_hosts=("Images.Example.com.",))
    target = check_uri(uri, opts, resolve)
    assert (target.host, target.address) == ("images.example.com", PUBLIC)


def test_given_a_host_that_is_no_valid_name_when_checked_then_it_is_rejected():
    with pytest.raises(UriRejected):
        check_uri("http://" + "a" * 64 + ".example.com/x", options(), resolve)


def test_given_a_host_entry_that_is_no_host_name_when_configured_then_it_is_refused(config_dir):
    from image_import.settings import ConfigError, load_settings
    from tests.support.config import set_option

    with pytest.raises(ValueError, match="not a host name"):
        options(disallowed_hosts=("bad..example.com",))
    set_option(config_dir, "glance-api.conf", "import_filtering_opts", "disallowed_hosts", "[bad..example.com]")
    with pytest.raises(ConfigError, match=r"glance-api\.conf:\d+: .*not a host name"):
        load_settings(config_dir)
