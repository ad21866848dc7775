"""Signed, stateless tokens for the links in messages (django.core.signing).

Nothing is stored to check them: the signature proves the link was made here for this
recipient (and, for clicks, this very address), so a forged token or a foreign URL is
refused without a database lookup.
"""

from django.conf import settings
from django.core import signing

UNSUBSCRIBE_SALT = "guanxi.marketing.unsubscribe"
CLICK_SALT = "guanxi.marketing.click"
OPEN_SALT = "guanxi.marketing.open"
# Links keep working long after the message is read; tracking links for half a year.
UNSUBSCRIBE_MAX_AGE = 3 * 365 * 86400
TRACKING_MAX_AGE = 183 * 86400


class BadToken(Exception):
    pass


def _dumps(payload, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def _loads(token: str, salt: str, max_age: int):
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise BadToken("expired") from exc
    except signing.BadSignature as exc:
        raise BadToken("forged") from exc


def unsubscribe_token(
    *, customer_id: int, channel: str, purpose: str, campaign_id: int | None
) -> str:
    return _dumps(
        {"c": customer_id, "ch": channel, "p": purpose, "k": campaign_id}, UNSUBSCRIBE_SALT
    )


def read_unsubscribe(token: str) -> dict:
    data = _loads(token, UNSUBSCRIBE_SALT, UNSUBSCRIBE_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise BadToken("forged")
    return data


def click_token(*, recipient_id: int, url: str) -> str:
    return _dumps({"r": recipient_id, "u": url}, CLICK_SALT)


def read_click(token: str) -> tuple[int, str]:
    data = _loads(token, CLICK_SALT, TRACKING_MAX_AGE)
    url = str(data.get("u", "")) if isinstance(data, dict) else ""
    if not url.startswith(("https://", "http://")) or not isinstance(data.get("r"), int):
        raise BadToken("forged")
    return data["r"], url


def open_token(*, recipient_id: int) -> str:
    return _dumps(recipient_id, OPEN_SALT)


def read_open(token: str) -> int:
    data = _loads(token, OPEN_SALT, TRACKING_MAX_AGE)
    if not isinstance(data, int):
        raise BadToken("forged")
    return data


def public_url(path: str) -> str:
    """Absolute address for links in messages (GUANXI_PUBLIC_URL, e.g. https://crm.example.cn)."""
    return getattr(settings, "GUANXI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/") + path
