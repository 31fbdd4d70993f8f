"""Who is on the other end: the client address the throttles and the audit trail use.

The connecting peer is the client, unless it is one of TRUSTED_PROXIES: then
X-Forwarded-For is read from the right (each proxy appends the address it saw)
and the first address that is not a trusted proxy is the client. Anything left
of it was written by the client itself and is ignored, so nobody escapes a
limit by sending the header; a malformed entry stops the walk at the last
address a trusted proxy vouched for.
"""

from __future__ import annotations

import contextvars
import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CLIENT_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_address", default=None)
FORWARDED_FOR = b"x-forwarded-for"


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def resolve_client(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str | None:
    """The client's address as text, or None when the peer is unknown (not an IP: a test transport, a socket)."""
    current = parse_address(peer) if peer else None
    if current is None or not is_trusted(current, trusted):
        return str(current) if current is not None else None
    hops = [hop for header in forwarded_for for hop in header.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not is_trusted(address, trusted):
            break
    return str(current)
