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
    """`e164` is what CustomerPhone.number stores: the E.164 number, and for a switchboard
    line its extension the RFC 3966 way (`+861088886666;ext=801`); `national` and `last4`
    are the main number's, for search."""

    e164: str
    national: str
    extension: str = ""

    @property
    def last4(self) -> str:
        return self.national[-4:]


class InvalidPhone(ValueError):
    pass


EXTENSION_MARK = ";ext="
MAX_EXTENSION = 8  # digits; longer is not an extension anyone dials
# Extension words phonenumbers does not know (it reads ext., x, #, extn): 转801, 分机 801.
_CHINESE_EXTENSION = re.compile(r"\s*[(（]?\s*(?:转|轉|分机|分機|内线|內線)\s*(\d+)\s*[)）]?\s*$")
# A switchboard written with a dash: 010-88886666-88 (only when the whole is no number).
_DASH_EXTENSION = re.compile(r"^(.*\d)\s*[-‐–—－]\s*(\d{1,6})$")


def split_extension(number: str) -> tuple[str, str]:
    """'+861088886666;ext=801' → ('+861088886666', '801'); no extension → (number, '')."""
    main, _mark, extension = number.partition(EXTENSION_MARK)
    return main, extension


def _parse(text: str, region: str):
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def normalize_phone(raw: str, region: str | None = None) -> Phone:
    """Parse a phone as users type it: +86 by default, full-width digits, spaces, dashes;
    area codes (010-8888 6666), 400/800 numbers, and extensions however they are written:
    转801, 分机801, ext. 123, x123, #12, or a last dash (010-88886666-88)."""
    text = fold(raw)
    if not text:
        raise InvalidPhone(raw)
    region = region or settings.GUANXI_DEFAULT_REGION
    text = _CHINESE_EXTENSION.sub(r" ext. \1", text)
    parsed = _parse(text, region)
    if parsed is None and (dashed := _DASH_EXTENSION.match(text)):
        parsed = _parse(f"{dashed[1]} ext. {dashed[2]}", region)
    if parsed is None:
        raise InvalidPhone(raw)
    extension = parsed.extension or ""
    if extension and (len(extension) > MAX_EXTENSION or not extension.isdigit()):
        raise InvalidPhone(raw)
    parsed.extension = None
    national = re.sub(
        r"\D", "", phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    )
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return Phone(
        e164=e164 + EXTENSION_MARK + extension if extension else e164,
        national=national,
        extension=extension,
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
