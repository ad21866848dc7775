"""Cleaning one imported cell: the same rules as the forms, fast enough for a million rows.

Phones, e-mails and pinyin use guanxi.customers.keys; two shortcuts keep them exact and fast:
- A mainland mobile (by far the most common) is checked against phonenumbers' own CN mobile
  pattern and formatted directly; anything else goes through `normalize_phone` as the forms
  do. tests/transfer/test_clean.py checks both paths agree.
- Pinyin is memoised per name, and built per character when every character has a single
  reading (context cannot change it); other names go through `pinyin_keys` whole.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

from guanxi.core.validation import column_limit
from guanxi.customers.keys import InvalidPhone, Phone, fold, normalize_phone, pinyin_keys
from guanxi.customers.models import Customer


class CellError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# ---- phones ---------------------------------------------------------------------------------

_CN_MOBILE = re.compile(
    phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern
)
_PHONE_NOISE = re.compile(r"[\s\-().]")
_PHONE_SPLIT = re.compile(r"[,，;；/、|\n]+")


@lru_cache(maxsize=1)
def _mainland_default() -> bool:
    return settings.GUANXI_DEFAULT_REGION == "CN"


@receiver(setting_changed)
def _forget_region(*, setting, **kwargs) -> None:
    if setting == "GUANXI_DEFAULT_REGION":
        _mainland_default.cache_clear()


def clean_phone(raw: str) -> Phone:
    text = fold(raw)
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]  # a number a spreadsheet stored as a decimal: 19900800003.0
    digits = _PHONE_NOISE.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif digits.startswith("+") or not _mainland_default():
        digits = ""
    if len(digits) == 11 and digits.isascii() and digits.isdigit() and _CN_MOBILE.fullmatch(digits):
        return Phone(e164="+86" + digits, national=digits)
    try:
        return normalize_phone(text)
    except InvalidPhone as exc:
        raise CellError(
            "invalid_phone", _("“%(raw)s” is not a valid phone number.") % {"raw": raw}
        ) from exc


def clean_phones(value) -> list[Phone]:
    """One cell may hold several numbers: 13812345678 / 13912345678."""
    text = cell_str(value)
    if not text:
        return []
    return [clean_phone(part) for part in _PHONE_SPLIT.split(text) if part.strip()]


# ---- text -----------------------------------------------------------------------------------


def cell_str(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
            value = value[1:]  # the apostrophe an export put before "=", "+", "-", "@"
        return fold(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return fold(str(value))


_FORMULA_STARTS = frozenset("=+-@\t\r")


def check_length(text: str, limit: int) -> str:
    if len(text) > limit:
        raise CellError(
            "too_long",
            _("%(length)s characters; at most %(limit)s.") % {"length": len(text), "limit": limit},
        )
    return text


def clean_email(value) -> str:
    text = cell_str(value).lower()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError as exc:
        raise CellError(
            "invalid_email", _("“%(raw)s” is not a valid e-mail address.") % {"raw": text}
        ) from exc
    return check_length(text, column_limit(Customer, "email"))


def clean_decimal(value) -> Decimal | None:
    text = cell_str(value).replace(",", "").replace("¥", "").replace("元", "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise CellError("invalid_number", _("“%(raw)s” is not an amount.") % {"raw": text}) from exc
    if amount < 0 or amount >= Decimal("1e12"):
        raise CellError("out_of_range", _("The amount is out of range."))
    return amount


# ---- dates ----------------------------------------------------------------------------------

_TIME = r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?"
_YMD = re.compile(r"^(\d{4})\s*[年/\-.]\s*(\d{1,2})\s*[月/\-.]\s*(\d{1,2})\s*[日号]?" + _TIME + "$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = date(1899, 12, 30)


def _date_error(raw) -> CellError:
    return CellError(
        "invalid_date",
        _("“%(raw)s” is not a date; write it as 1985-03-02, 1985/3/2 or 1985年3月2日.")
        % {"raw": raw},
    )


@lru_cache(maxsize=65536)
def _parse_date_text(text: str) -> tuple[date, tuple[int, int, int] | None]:
    match = _YMD.match(text)
    if match:
        year, month, day, hh, mm, ss = match.groups()
        clock = (int(hh), int(mm), int(ss or 0)) if hh is not None else None
    else:
        match = _COMPACT.match(text)
        if not match:
            raise _date_error(text)
        year, month, day = match.groups()
        clock = None
    try:
        return date(int(year), int(month), int(day)), clock
    except ValueError as exc:
        raise _date_error(text) from exc


def parse_date_value(value) -> tuple[date | None, tuple[int, int, int] | None]:
    """(date, (h, m, s) or None) from a cell: Excel dates and serials, or text in the
    common Chinese forms."""
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime):
        return value.date(), (value.hour, value.minute, value.second)
    if isinstance(value, date):
        return value, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 21001231:  # 19850302 typed as a number
            return _parse_date_text(str(int(value)))
        if 1 <= value < 2958466:  # an Excel serial day number
            whole = int(value)
            seconds = round((value - whole) * 86400)
            day = _EXCEL_EPOCH + timedelta(days=whole)
            clock = (seconds // 3600, seconds % 3600 // 60, seconds % 60) if seconds else None
            return day, clock
        raise _date_error(value)
    text = fold(str(value))
    if not text:
        return None, None
    return _parse_date_text(text)


def clean_birthday(value, today: date | None = None) -> date | None:
    day, _clock = parse_date_value(value)
    if day is None:
        return None
    if day.year < 1900:
        raise CellError("out_of_range", _("A birthday before 1900 is not plausible."))
    if day > (today or timezone.localdate()):
        raise CellError("future_date", _("A birthday cannot be in the future."))
    return day


def clean_datetime(value) -> datetime | None:
    day, clock = parse_date_value(value)
    if day is None:
        return None
    hour, minute, second = clock or (12, 0, 0)
    try:
        moment = datetime(day.year, day.month, day.day, hour, minute, second)
    except ValueError as exc:
        raise _date_error(value) from exc
    return timezone.make_aware(moment, timezone.get_current_timezone())


# ---- choices --------------------------------------------------------------------------------


def choice_cleaner(choices, synonyms: dict[str, str], field_label: str):
    """A cleaner accepting a code, an English label or a Chinese word for each choice."""
    table = {}
    for value, label in choices:
        table[str(value).lower()] = value
        table[str(label).lower()] = value
    table.update({k.lower(): v for k, v in synonyms.items()})

    def clean(raw):
        text = cell_str(raw).lower()
        if not text:
            return None
        try:
            return table[text]
        except KeyError:
            raise CellError(
                "invalid_choice",
                _("“%(raw)s” is not a known %(field)s.")
                % {"raw": cell_str(raw), "field": field_label},
            ) from None

    return clean


GENDER_WORDS = {
    "男": "m",
    "男性": "m",
    "先生": "m",
    "male": "m",
    "女": "f",
    "女性": "f",
    "女士": "f",
    "小姐": "f",
    "female": "f",
    "未知": "",
    "不详": "",
    "-": "",
}
KIND_WORDS = {
    "个人": "person",
    "自然人": "person",
    "单位": "organisation",
    "公司": "organisation",
    "企业": "organisation",
    "组织": "organisation",
    "机构": "organisation",
    "company": "organisation",
    "organization": "organisation",
}
SOURCE_WORDS = {
    "到访": "walk_in",
    "来访": "walk_in",
    "自然到访": "walk_in",
    "上门": "walk_in",
    "来电": "phone",
    "电话": "phone",
    "网站": "web_form",
    "网络": "web_form",
    "表单": "web_form",
    "网页": "web_form",
    "转介绍": "referral",
    "介绍": "referral",
    "推荐": "referral",
    "老带新": "referral",
    "展会": "exhibition",
    "活动": "campaign",
    "营销": "campaign",
    "其他": "other",
    "其它": "other",
    "walk-in": "walk_in",
    "web": "web_form",
}
STAGE_WORDS = {
    "潜在": "potential",
    "潜在客户": "potential",
    "意向": "prospect",
    "意向客户": "prospect",
    "潜客": "prospect",
    "客户": "customer",
    "成交": "customer",
    "已成交": "customer",
    "成交客户": "customer",
    "忠诚": "loyal",
    "忠诚客户": "loyal",
    "老客户": "loyal",
    "vip": "loyal",
}
INTERACTION_KIND_WORDS = {
    "来电": "call_in",
    "呼入": "call_in",
    "去电": "call_out",
    "电话": "call_out",
    "呼出": "call_out",
    "拜访": "visit",
    "上门": "visit",
    "来访": "visit",
    "到访": "visit",
    "面谈": "meeting",
    "会议": "meeting",
    "见面": "meeting",
    "邮件": "email",
    "短信": "sms",
    "微信": "wechat",
    "备注": "note",
    "笔记": "note",
    "贺卡": "card",
    "礼品": "gift",
    "送礼": "gift",
    "call": "call_out",
}
OUTCOME_WORDS = {
    "接通": "answered",
    "已接通": "answered",
    "未接": "no_answer",
    "未接通": "no_answer",
    "无人接听": "no_answer",
    "回电": "call_back",
    "稍后回电": "call_back",
}


# ---- pinyin ---------------------------------------------------------------------------------

_WORD = re.compile(r"[0-9a-z]+")


@lru_cache(maxsize=16384)
def _char_words(char: str) -> tuple[str, ...] | None:
    """The pinyin words of a character read on its own (its default reading); None for
    what pypinyin does not read character by character (Latin letters, digits, symbols)."""
    if ord(char) not in PINYIN_DICT:
        return None
    words: list[str] = []
    for chunk in _lazy(char):
        words.extend(_WORD.findall(chunk.lower().replace("ü", "v")))
    return tuple(words)


def _lazy(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(text)


def _has_phrase(name: str) -> bool:
    """Whether a run of two or more characters of `name` is in pypinyin's phrase dictionary:
    only then can context change a character's reading (重庆 is chong, not zhong)."""
    n = len(name)
    return any(name[i:j] in PHRASES_DICT for i in range(n) for j in range(i + 2, n + 1))


@lru_cache(maxsize=200_000)
def name_keys(name: str) -> tuple[str, str]:
    """pinyin_keys(name), memoised, and built character by character when no phrase of the
    dictionary occurs in the name (then pypinyin too reads each character on its own)."""
    if len(name) > 6 or _has_phrase(name):
        return pinyin_keys(name)
    words: list[str] = []
    for char in name:
        char_words = _char_words(char)
        if char_words is None:
            return pinyin_keys(name)
        words.extend(char_words)
    return "".join(words)[:300], "".join(w[0] for w in words)[:100]
