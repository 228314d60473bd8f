"""The client's IP address, the same way for lockout, rate limits and the audit log.

Behind the TLS proxy every request comes from the proxy, so the real address
is taken from X-Forwarded-For, counting CLINIC_TRUSTED_PROXY_COUNT entries from
the right (the ones our own proxies appended). Entries further left are set by
the client and cannot be trusted.
"""

from django.conf import settings


def client_ip(request) -> str:
    proxies = settings.CLINIC_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    # Empty when unknown (e.g. an internal request): stored as NULL, never a fake address.
    return request.META.get("REMOTE_ADDR", "")
