"""Login throttling that stops guessing without locking out the real user (C8, issue #12 item 9).

django-axes counts failures per (username, client address): five wrong passwords lock that
pair for AXES_COOLOFF_HOURS, and the lock ends on time even if the guessing goes on (a
failure during the lock does not restart it). The same person from another address — their
phone, the office — is never locked by someone else's guessing.

On top, one address may fail GUANXI_LOGIN_ADDRESS_LIMIT times in a cool-off period across
all usernames (password spraying), then that address waits.

The client address is REMOTE_ADDR, unless the request comes from one of
GUANXI_TRUSTED_PROXIES (the TLS proxy of docs/operations.md): then it is the right-most
address of X-Forwarded-For that is not itself a trusted proxy. An X-Forwarded-For from anyone
else is ignored, so it cannot be used to dodge the limits or to lock out someone else.
"""

from datetime import timedelta
from ipaddress import ip_address

from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def _valid(address: str) -> bool:
    try:
        ip_address(address)
    except ValueError:
        return False
    return True


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = set(getattr(settings, "GUANXI_TRUSTED_PROXIES", ()))
    if remote not in trusted:
        return remote or None
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([a for a in chain if a]):
        if address not in trusted:
            return address if _valid(address) else remote
    return remote


def cool_off() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    return value if isinstance(value, timedelta) else timedelta(hours=float(value))


def address_locked(request: HttpRequest) -> bool:
    """Too many failed logins from this address, whatever the usernames, in one cool-off."""
    from axes.models import AccessAttempt

    limit = settings.GUANXI_LOGIN_ADDRESS_LIMIT
    address = client_ip(request)
    if not limit or not address:
        return False
    failures = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=timezone.now() - cool_off()
    ).aggregate(n=Sum("failures_since_start"))["n"]
    return (failures or 0) >= limit


def unlock(username: str) -> int:
    """Clear every lock on this username (the admin's unlock); returns attempts removed."""
    from axes.utils import reset

    return reset(username=username)


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of these usernames are locked out now from some address (for the user list)."""
    from axes.models import AccessAttempt

    return set(
        AccessAttempt.objects.filter(
            username__in=usernames,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=timezone.now() - cool_off(),
        ).values_list("username", flat=True)
    )
