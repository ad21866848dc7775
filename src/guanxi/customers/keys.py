"""Search keys and normalisation: pinyin (pypinyin), phones (phonenumbers), e-mail."""

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import Q
from pypinyin import lazy_pinyin

_WORD = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    """Full-width to half-width (ＡＢＣ１２３ → ABC123), trimmed: what users paste from Excel."""
    if not text:
        return ""
    if text.isascii():  # already in NFKC form: most phones, e-mails, dates and numbers
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def pinyin_keys(name: str) -> tuple[str, str]:
    """('zhangsan', 'zs') for 张三; ('johnsmith', 'js') for John Smith."""
    words: list[str] = []
    for chunk in lazy_pinyin(fold(name)):
        words.extend(_WORD.findall(chunk.lower().replace("ü", "v")))
    return "".join(words)[:300], "".join(w[0] for w in words)[:100]


@dataclass(frozen=True)
class Phone:
    e164: str
    national: str

    @property
    def last4(self) -> str:
        return self.national[-4:]


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, region: str | None = None) -> Phone:
    """Parse a phone as users type it: +86 by default, full-width digits, spaces, dashes."""
    text = fold(raw)
    if not text:
        raise InvalidPhone(raw)
    try:
        parsed = phonenumbers.parse(text, region or settings.GUANXI_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(raw) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhone(raw)
    national = re.sub(
        r"\D", "", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    return Phone(
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        national=national,
    )


def email_key(email: str) -> str:
    return fold(email).lower()


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, in a form the engine answers from a b-tree index.

    SQLite's LIKE is case-insensitive and skips ordinary indexes, so it gets a range;
    PostgreSQL gets LIKE 'x%', served by the varchar_pattern_ops indexes of its migration.
    """
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__startswith": prefix})
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"})
