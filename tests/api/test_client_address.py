"""Which address is the client's: the peer, or what trusted proxies say in X-Forwarded-For."""

from __future__ import annotations

from api.client_address import resolve_client
from db.settings import parse_networks

PROXIES = parse_networks("10.0.0.0/8, 2001:db8::/32")


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy() -> None:
    assert resolve_client("203.0.113.1", ["198.51.100.1"], PROXIES) == "203.0.113.1"
    assert resolve_client("203.0.113.1", ["198.51.100.1"], []) == "203.0.113.1"
    assert resolve_client("10.0.0.1", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_the_rightmost_untrusted_hop_wins_over_what_the_client_wrote() -> None:
    assert resolve_client("10.0.0.1", ["1.1.1.1, 198.51.100.1, 10.0.0.7"], PROXIES) == "198.51.100.1"
    assert resolve_client("10.0.0.1", ["1.1.1.1", "198.51.100.1, 10.0.0.7"], PROXIES) == "198.51.100.1"
    assert resolve_client("10.0.0.1", ["10.0.0.9, 10.0.0.7"], PROXIES) == "10.0.0.9"
    assert resolve_client("10.0.0.1", [], PROXIES) == "10.0.0.1"


def test_malformed_hops_stop_the_walk_at_the_last_vouched_address() -> None:
    assert resolve_client("10.0.0.1", ["198.51.100.1, garbage"], PROXIES) == "10.0.0.1"
    assert resolve_client("10.0.0.1", ["garbage, 10.0.0.7"], PROXIES) == "10.0.0.7"
    assert resolve_client("10.0.0.1", ["198.51.100.1:443"], PROXIES) == "10.0.0.1"


def test_ipv6_and_mapped_addresses() -> None:
    assert resolve_client("2001:db8::1", ["2001:db9::5"], PROXIES) == "2001:db9::5"
    assert resolve_client("::ffff:10.0.0.1", ["::ffff:198.51.100.1"], PROXIES) == "198.51.100.1"
    assert resolve_client("testclient", ["198.51.100.1"], PROXIES) is None
    assert resolve_client(None, [], PROXIES) is None
