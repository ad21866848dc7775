"""One validation layer for everything a person or a program types into Guanxi (C8).

The API (through `ValidatingParser` and the schemas' types), the web forms (through
`ValidatedFormMixin`) and the importer (through `check_value` / `strip_control`) apply the same
rules, so a value refused by one door is refused by every door, on SQLite and PostgreSQL alike:

- integers fit in 64 bits (SQLite raises OverflowError, PostgreSQL "out of range" beyond);
- no NUL or other C0/C1 control characters except tab and line breaks (PostgreSQL refuses NUL
  in text, SQLite stores it, openpyxl refuses to write it into an XLSX file);
- no bidirectional override or isolate characters (U+202A–U+202E, U+2066–U+2069), which make
  a name display differently from what it is ("Trojan Source" spoofing);
- dates between 1900-01-01 and 2200-12-31, with the field named;
- a plain time (contact window, working hours) has no time zone;
- money has at most two decimal places (refused, never rounded), is finite, and -0 becomes 0.

Interactive input is refused (the person can correct it); `strip_control` is for imports of
legacy files, where a stray control character should not cost the row.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.parser import Parser

from .errors import DomainError, FieldError, ValidationFailed

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2200, 12, 31)
MONEY_PLACES = 2

# C0 controls except \t \n \r, DEL and the C1 block.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Explicit embeddings, overrides and isolates; the plain marks (U+200E/F) stay allowed.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\r\n]")


def column_limit(model: type[models.Model], field: str) -> int:
    """The most characters a model's column holds: declared once, on the model, and read by
    the forms and API schemas that take the value."""
    limit = getattr(model._meta.get_field(field), "max_length", None)
    assert isinstance(limit, int), f"{model.__name__}.{field} has no max_length"
    return limit


def text_problem(value: str, *, multiline: bool = True) -> tuple[str, str] | None:
    """The (code, message) of what is wrong with a piece of text, or None."""
    if "\x00" in value:
        return "nul_character", _("This text contains a NUL character.")
    if _CONTROL.search(value):
        return "control_character", _("This text contains an invisible control character.")
    if _BIDI.search(value):
        return "bidi_override", _(
            "This text contains a right-to-left override character that disguises what it says."
        )
    if not multiline and _LINE_BREAKS.search(value):
        return "line_break", _("This field must be a single line.")
    return None


def strip_control(value: str) -> str:
    """Remove control and bidi override characters (imports of legacy files)."""
    return _BIDI.sub("", _CONTROL.sub("", value))


def check_text(value: str, *, field: str, multiline: bool = True) -> str:
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise ValidationFailed.single(field, *problem)
    return value


def check_int(value: int, *, field: str) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValidationFailed.single(field, "out_of_range", _("This number is too large."))
    return value


def check_date(value: date, *, field: str) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValidationFailed.single(
            field,
            "date_out_of_range",
            _("Enter a date between %(min)s and %(max)s.")
            % {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()},
        )
    return value


def check_time(value: time, *, field: str) -> time:
    if value.tzinfo is not None:
        raise ValidationFailed.single(
            field, "time_with_zone", _("Enter a plain time of day, without a time zone.")
        )
    return value


def check_money(value: Decimal | int | str, *, field: str) -> Decimal:
    """A finite amount with at most two decimal places; -0 becomes 0. Never rounds."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed.single(field, "invalid_amount", _("Enter an amount.")) from None
    if not amount.is_finite():
        raise ValidationFailed.single(field, "invalid_amount", _("Enter an amount."))
    if amount.adjusted() >= 20:  # beyond any CNY amount; quantize() would overflow too
        raise ValidationFailed.single(field, "out_of_range", _("This amount is too large."))
    if amount != amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)):
        raise ValidationFailed.single(
            field, "too_many_decimals", _("Enter an amount with at most two decimal places.")
        )
    if amount.is_zero():
        amount = abs(amount)  # -0.00 → 0.00
    return amount


def check_value(value: Any, *, field: str, multiline: bool = True) -> Any:
    """Check one value by its type; return it (normalised for money)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return check_text(value, field=field, multiline=multiline)
    if isinstance(value, int):
        return check_int(value, field=field)
    if isinstance(value, Decimal):
        return check_money(value, field=field)
    if isinstance(value, datetime):
        return check_date(value, field=field)
    if isinstance(value, date):
        return check_date(value, field=field)
    if isinstance(value, time):
        return check_time(value, field=field)
    if isinstance(value, list | tuple):
        return type(value)(check_value(v, field=field, multiline=multiline) for v in value)
    return value


def check_values(data: dict, *, multiline: tuple[str, ...] | set[str] = ()) -> dict:
    """Check every value of a dict (a form's cleaned data, a service's input) at once.

    Returns the normalised dict; raises one ValidationFailed listing every bad field.
    Text fields are single-line unless named in `multiline`.
    """
    cleaned, errors = {}, []
    for name, value in data.items():
        try:
            cleaned[name] = check_value(value, field=name, multiline=name in multiline)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _whole(path: str) -> Any:
    # An error about the whole body, not one field, reports `field: null`.
    return path or None


def check_tree(obj: Any, path: str = "") -> list[FieldError]:
    """Every problem in a decoded JSON document: huge integers, control characters."""
    errors: list[FieldError] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            errors.extend(check_tree(key, path))
            errors.extend(check_tree(value, f"{path}.{key}" if path else str(key)))
    elif isinstance(obj, list):
        for item in obj:
            errors.extend(check_tree(item, path))
    elif isinstance(obj, str):
        problem = text_problem(obj)
        if problem:
            errors.append(FieldError(_whole(path), *problem))
    elif isinstance(obj, int) and not isinstance(obj, bool) and not INT64_MIN <= obj <= INT64_MAX:
        errors.append(FieldError(_whole(path), "out_of_range", _("This number is too large.")))
    return errors


def parse_json_body(body: bytes) -> Any:
    """Decode a JSON request body, refusing what `check_tree` refuses.

    Numbers with a fraction are decoded as Decimal so money is never rounded through float.
    """
    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ValidationFailed.single(
            _whole(""), "invalid_json", _("The body is not valid JSON.")
        ) from exc
    errors = check_tree(data)
    if errors:
        raise ValidationFailed(errors)
    return data


def _refuse_constant(name: str):
    raise ValueError(name)  # NaN, Infinity: not JSON, never an amount


class ValidatingParser(Parser):
    """Ninja's request parser with the rules above applied before any schema sees the data."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            body = request.body
        except RequestDataTooBig:
            raise BodyTooLarge() from None
        return parse_json_body(body)

    def parse_querydict(self, data, list_fields, request: HttpRequest) -> dict:
        result = super().parse_querydict(data, list_fields, request)
        errors = check_tree(result)
        if errors:
            raise ValidationFailed(errors)
        return result


class BodyTooLarge(DomainError):
    def __init__(self):
        super().__init__(
            _("The request body is too large (at most %(mb)s MB).")
            % {"mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024) or 1},
            code="body_too_large",
            status=413,
        )


class ValidatedFormMixin:
    """Apply `check_value` to every cleaned field of a Django form.

    Textarea fields may hold line breaks; every other text field is a single line.
    """

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            field = self.fields.get(name)
            multiline = field is not None and isinstance(field.widget, forms.Textarea)
            try:
                cleaned[name] = check_value(value, field=name, multiline=multiline)
            except ValidationFailed as exc:
                self.add_error(name if name in self.fields else None, str(exc.message))
        return cleaned
