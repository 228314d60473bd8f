"""The client's address, the same way for lockout, rate limits and the audit log.

The peer address (REMOTE_ADDR, the machine that opened the connection) is the
client, unless that peer is one of our own proxies, listed by address or
network in CLINIC_TRUSTED_PROXIES. Only then is X-Forwarded-For read: each
trusted proxy appends the address it saw, so the chain is walked from the
right, past our own proxies, to the first address that is not one of them.
Everything left of that was written by the client and could say anything.

Forwarded values that are not addresses are ignored: the walk stops there and
the last address it could trust stands (the peer, when the proxy's own entry
is the malformed one). A header a client sends to the app directly, bypassing
the proxies, is never read at all.

``TrustedProxyMiddleware`` does the same for X-Forwarded-Proto, which Django's
SECURE_PROXY_SSL_HEADER would otherwise believe from anyone.
"""

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: More hops than any real chain of our proxies; a longer header is not walked further.
MAX_FORWARDED_HOPS = 20


@lru_cache(maxsize=8)
def trusted_proxy_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse CLINIC_TRUSTED_PROXIES entries (addresses or networks, as gunicorn reads them)."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip()))
        except ValueError:
            raise ImproperlyConfigured(
                f"CLINIC_TRUSTED_PROXIES: {entry!r} is not an address or a network "
                "(e.g. 127.0.0.1 or 10.0.0.0/8, with no host bits set)."
            ) from None
    return tuple(networks)


def parse_address(value: str) -> IPAddress | None:
    """An IPv4 or IPv6 address, or None for anything else (ports, names, zone ids, junk)."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if getattr(address, "scope_id", None):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in networks)


def peer_is_trusted_proxy(request) -> bool:
    """Whether the connection came from one of our own proxies (CLINIC_TRUSTED_PROXIES)."""
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    networks = trusted_proxy_networks(tuple(settings.CLINIC_TRUSTED_PROXIES))
    return peer is not None and _is_trusted(peer, networks)


def client_ip(request) -> str:
    """The client's address as text, or "" when unknown (stored as empty, never a made-up one).

    Always a valid address or "", so django-axes and the audit log can store it
    whatever the request's headers say.
    """
    peer = parse_address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        # No address (e.g. a Unix socket or an internal request).
        return ""
    networks = trusted_proxy_networks(tuple(settings.CLINIC_TRUSTED_PROXIES))
    client = peer
    if _is_trusted(peer, networks):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for entry in reversed(forwarded[-MAX_FORWARDED_HOPS:]):
            hop = parse_address(entry)
            if hop is None:
                break  # not an address: ignored, the last trusted hop stands
            client = hop
            if not _is_trusted(hop, networks):
                break  # the first address that is not ours: the client
    return str(client)


class TrustedProxyMiddleware:
    """Believe X-Forwarded-Proto only from a trusted proxy.

    Django's SECURE_PROXY_SSL_HEADER trusts the header from whoever sends it,
    so a client talking to the app directly could claim HTTPS (and be handed
    secure cookies over plain HTTP). The header is removed before anything
    asks ``request.is_secure()`` unless the peer is one of ours. It comes first
    in MIDDLEWARE for that reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_PROTO" in request.META and not peer_is_trusted_proxy(request):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        return self.get_response(request)
