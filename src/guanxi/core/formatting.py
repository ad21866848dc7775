"""How numbers read on every page, in both languages: CNY with thousands separators and two
decimals (¥2,670,000.00 — the form Chinese contracts and bank slips use too), and counts
grouped by thousands (12,345)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value, currency: str = "¥") -> str:
    """¥2,670,000.00; '—' for nothing; a negative amount as −¥50.00."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "−" if amount < 0 else ""
    return f"{sign}{currency}{abs(amount):,.2f}"


def grouped(value) -> str:
    """12,345 for a count; other values unchanged."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,}"
