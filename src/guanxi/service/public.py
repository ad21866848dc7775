"""The public contact form: a self-hosted proof-of-work captcha (ALTCHA: the browser finds
a number whose SHA-256 with the challenge starts with zeros; the server checks it in one
hash, signed with a key derived from SECRET_KEY, usable once), a rate limit per address,
and a ticket with an SLA for every accepted request — a web contact never sits unanswered.
"""

import time
from datetime import timedelta

import altcha
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.models import OrgUnit
from guanxi.customers.keys import InvalidPhone, normalize_phone
from guanxi.customers.models import CustomerPhone

from .models import Channel, PublicSubmission, Ticket, TicketType
from .services import ticket_create

CHALLENGE_SECONDS = 600
PUBLIC_TYPES = (TicketType.INQUIRY, TicketType.REPAIR, TicketType.COMPLAINT, TicketType.REQUEST)


def _secret() -> str:
    return salted_hmac("guanxi.service.captcha", "altcha").hexdigest()


def captcha_challenge() -> dict:
    """A signed challenge for the widget; its difficulty is the number of leading hex zeros
    (GUANXI_CAPTCHA_PREFIX, "0000" ≈ 65,000 hashes: well under a second in a browser)."""
    challenge = altcha.create_challenge(
        "SHA-256",
        1,
        key_prefix=getattr(settings, "GUANXI_CAPTCHA_PREFIX", "0000"),
        expires_at=int(time.time()) + CHALLENGE_SECONDS,
        hmac_secret=_secret(),
    )
    return challenge.to_dict()


def captcha_verify(payload: str) -> str:
    """The challenge's nonce when `payload` solves a challenge we signed; else a field
    error on `altcha`."""
    if not payload or len(payload) > 4000:
        raise ValidationFailed.single(
            "altcha", "captcha_required", _("Please wait for the anti-spam check to finish.")
        )
    result = altcha.verify_solution(payload, _secret())
    if not result.verified:
        code = "captcha_expired" if result.expired else "captcha_invalid"
        raise ValidationFailed.single(
            "altcha", code, _("The anti-spam check failed. Please try again.")
        )
    return altcha.Payload.from_base64(payload).challenge.parameters.nonce


def address_key(address: str) -> str:
    """The rate limit's key: a keyed hash, so the ledger never stores an IP address."""
    return salted_hmac("guanxi.service.rate", address or "-").hexdigest()


def rate_limit() -> tuple[int, int]:
    """(submissions, per seconds) allowed from one address; GUANXI_CONTACT_RATE."""
    allowed, seconds = getattr(settings, "GUANXI_CONTACT_RATE", (5, 3600))
    return int(allowed), int(seconds)


def _rate_limited(key: str, now) -> bool:
    allowed, seconds = rate_limit()
    recent = PublicSubmission.objects.filter(
        address_hash=key, at__gte=now - timedelta(seconds=seconds)
    ).count()
    return recent >= allowed


def _validate(data: dict) -> tuple[dict, list[FieldError]]:
    clean = {k: (data.get(k) or "").strip() for k in ("name", "phone", "email", "message", "type")}
    errors = []
    for name, limit in (("name", 100), ("phone", 30), ("email", 254), ("message", 2000)):
        if len(clean[name]) > limit:
            errors.append(
                FieldError(name, "too_long", _("At most %(n)s characters.") % {"n": limit})
            )
    if not clean["name"]:
        errors.append(FieldError("name", "required", _("Tell us your name.")))
    if not clean["message"]:
        errors.append(FieldError("message", "required", _("Tell us what happened.")))
    if not clean["phone"] and not clean["email"]:
        errors.append(FieldError("phone", "required", _("Leave a phone number or an e-mail.")))
    if clean["phone"] and len(clean["phone"]) <= 30:
        try:
            clean["phone"] = normalize_phone(clean["phone"]).e164
        except InvalidPhone:
            errors.append(FieldError("phone", "invalid_phone", _("This is not a phone number.")))
    if clean["email"] and "@" not in clean["email"]:
        errors.append(FieldError("email", "invalid_email", _("This is not an e-mail address.")))
    if clean["type"] not in PUBLIC_TYPES:
        clean["type"] = TicketType.INQUIRY
    return clean, errors


def public_contact_submit(*, address: str, data: dict, captcha: str) -> Ticket:
    """Create a ticket from the public form. Order of checks: the rate limit (cheap, and a
    flood learns nothing else), the fields, the captcha; then one transaction records the
    submission (the captcha's nonce is unique: a solved challenge works once) and the
    ticket. Nothing is saved when any check fails."""

    now = timezone.now()
    key = address_key(address)
    if _rate_limited(key, now):
        raise ValidationFailed(
            [FieldError("__all__", "rate_limited", _("Too many requests. Please call us."))]
        )
    clean, errors = _validate(data)
    if errors:
        raise ValidationFailed(errors)
    nonce = captcha_verify(captcha)
    phone = CustomerPhone.objects.filter(number=clean["phone"]).select_related("customer")
    match = phone.first() if clean["phone"] else None
    unit_id = getattr(settings, "GUANXI_SERVICE_WEB_UNIT", None)
    unit = OrgUnit.objects.filter(pk=unit_id).first() if unit_id else None
    try:
        with transaction.atomic():
            submission = PublicSubmission.objects.create(
                address_hash=key, at=now, challenge=nonce[:128]
            )
            ticket = ticket_create(
                actor=None,
                customer_id=match.customer_id if match else None,
                type=clean["type"],
                channel=Channel.WEB,
                subject=clean["message"].splitlines()[0][:80],
                description=clean["message"],
                org_unit=unit,
                contact={"name": clean["name"], "phone": clean["phone"], "email": clean["email"]},
                now=now,
            )
            submission.ticket = ticket
            submission.save(update_fields=["ticket"])
    except IntegrityError as exc:
        raise ValidationFailed.single(
            "altcha", "captcha_used", _("The anti-spam check failed. Please try again.")
        ) from exc
    return ticket
