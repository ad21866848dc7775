"""The campaign engine: materialise the audience, then send in throttled batches.

Idempotency is per recipient row (unique campaign × customer). A batch is claimed in one
transaction — the policy is applied, the material is reserved for each allowed customer
(ContactAttempt, unique per customer × fingerprint) and the rows are marked `sending` with
this run's token — and only then are the messages handed to the server; the batch's
confirmation is one UPDATE after it. Batches are small (GUANXI_MARKETING_BATCH, 20), so a
run that dies (killed worker, power cut) leaves at most that many rows `sending`; the next
run, once the dead run's lease has lapsed, marks those `unconfirmed` — they may or may not
have gone out — and never sends them again by itself: the campaign page lists them for a
person to decide. Everything else resumes where it stopped, so nobody gets it twice.
"""

import contextlib
import re
import secrets
import smtplib
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.header import Header
from email.policy import Compat32
from email.utils import formatdate
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import CharField, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat, Substr
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.models import Role, User
from guanxi.customers.models import Customer

from . import policy, templating, tokens
from .channels import SmsRefused, WechatRefused, email_connection, sms_backend, wechat_backend
from .models import (
    Campaign,
    Channel,
    ContactAttempt,
    ContactProfile,
    Recipient,
    SegmentMember,
    SkipReason,
)

LEASE = timedelta(minutes=10)


def _setting(name: str, default):
    return getattr(settings, name, default)


def materialise(campaign: Campaign) -> int:
    """Copy the audience into recipient rows once (re-running adds only newcomers)."""
    table = Recipient._meta.db_table
    members = SegmentMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, customer_id, status, reason, error, claim, "
            "address, message_id, bounce_status, revenue) "
            f"SELECT %s, m.customer_id, %s, '', '', '', '', '', '', 0 FROM {members} m "
            "WHERE m.segment_id = %s ON CONFLICT DO NOTHING",
            [campaign.pk, Recipient.Status.PENDING, campaign.segment_id],
        )
        return cursor.rowcount


def _domain() -> str:
    return _setting("GUANXI_MARKETING_MESSAGE_DOMAIN", "guanxi.local")


def message_id(campaign: Campaign, recipient_id: int) -> str:
    """Deterministic: the same recipient row always carries the same Message-ID."""
    return f"<gx.{campaign.pk}.{recipient_id}@{_domain()}>"


def _acquire(campaign_id: int, token: str, now) -> Campaign | None:
    """Take the campaign for this run, unless a live run holds it."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None or campaign.status not in (
            Campaign.Status.SCHEDULED,
            Campaign.Status.SENDING,
        ):
            return None
        if (
            campaign.status == Campaign.Status.SCHEDULED
            and campaign.scheduled_at
            and campaign.scheduled_at > now
        ):
            return None
        if campaign.runner and campaign.heartbeat_at and campaign.heartbeat_at > now - LEASE:
            return None
        # Rows a dead run had handed to the server but not confirmed: never resent blindly.
        Recipient.objects.filter(campaign=campaign, status=Recipient.Status.SENDING).update(
            status=Recipient.Status.UNCONFIRMED
        )
        campaign.status = Campaign.Status.SENDING
        campaign.runner, campaign.heartbeat_at = token, now
        campaign.started_at = campaign.started_at or now
        campaign.save(update_fields=["status", "runner", "heartbeat_at", "started_at"])
        materialise(campaign)
    return campaign


def _claim(campaign: Campaign, token: str, size: int, now) -> list[Recipient] | None:
    """The batch's rows allowed to go out (maybe none: all held back); None when the queue
    has nothing due."""
    with transaction.atomic():
        qs = (
            Recipient.objects.filter(campaign=campaign, status=Recipient.Status.PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .select_related("customer", "customer__owner")
            .order_by("id")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs[:size])
        if not rows:
            return None
        verdicts = policy.evaluate(
            [r.customer for r in rows],
            channel=campaign.channel,
            purpose=campaign.purpose,
            fingerprint=campaign.fingerprint,
            at=now,
        )
        common = {
            "channel": campaign.channel,
            "purpose": campaign.purpose,
            "material": campaign.material,
            "org_unit_id": campaign.org_unit_id,
            "campaign_id": campaign.pk,
            "source": f"campaign:{campaign.pk}",
            "at": now,
        }
        skipped, deferred, allowed = [], [], []
        for r in rows:
            verdict = verdicts[r.customer_id]
            if verdict.not_before is not None:
                deferred.append((r, verdict))
            elif verdict.reason:
                skipped.append((r, verdict.reason))
            else:
                allowed.append(r)
        if allowed:
            # Reserve the material: the unique index lets one department's send through.
            ContactAttempt.objects.bulk_create(
                [
                    ContactAttempt(
                        customer_id=r.customer_id,
                        outcome=ContactAttempt.Outcome.SENT,
                        fingerprint=campaign.fingerprint,
                        **{k: v for k, v in common.items()},
                    )
                    for r in allowed
                ],
                ignore_conflicts=True,
            )
            if campaign.fingerprint:
                mine = set(
                    ContactAttempt.objects.filter(
                        campaign=campaign,
                        customer_id__in=[r.customer_id for r in allowed],
                        outcome=ContactAttempt.Outcome.SENT,
                    ).values_list("customer_id", flat=True)
                )
                skipped += [
                    (r, SkipReason.DUPLICATE_MATERIAL) for r in allowed if r.customer_id not in mine
                ]
                allowed = [r for r in allowed if r.customer_id in mine]
        if skipped:
            policy.record_skips([(r.customer_id, reason) for r, reason in skipped], **common)
            for reason in {reason for _r, reason in skipped}:
                Recipient.objects.filter(
                    pk__in=[r.pk for r, why in skipped if why == reason]
                ).update(status=Recipient.Status.SKIPPED, reason=reason)
        if deferred:
            fresh = [(r, v) for r, v in deferred if r.reason != SkipReason.QUIET_HOURS]
            policy.record_skips(
                [(r.customer_id, SkipReason.QUIET_HOURS) for r, _v in fresh], **common
            )
            for r, verdict in deferred:
                r.not_before, r.reason = verdict.not_before, SkipReason.QUIET_HOURS
            Recipient.objects.bulk_update([r for r, _v in deferred], ["not_before", "reason"])
        # One statement for the batch (bulk_update's CASE per row costs more than the send):
        # the address and Message-ID follow from the row and are written with the confirmation.
        Recipient.objects.filter(pk__in=[r.pk for r in allowed]).update(
            status=Recipient.Status.SENDING, claim=token, claimed_at=now, reason=""
        )
        for r in allowed:
            r.status, r.claim, r.claimed_at, r.reason = Recipient.Status.SENDING, token, now, ""
            r.address = policy.address_of(r.customer, campaign.channel)[:254]
            r.message_id = message_id(campaign, r.pk)
    return allowed


# The customer field each channel's address comes from (as policy.address_of reads it).
ADDRESS_FIELD: dict[str, str] = {
    Channel.EMAIL: "email",
    Channel.SMS: "primary_phone",
    Channel.PHONE: "primary_phone",
    Channel.WECHAT: "wechat_id",
    Channel.POST: "address",
}


def _confirm(campaign: Campaign, sent: list[int], now) -> None:
    if sent:
        address = Customer.objects.filter(pk=OuterRef("customer_id")).values(
            ADDRESS_FIELD[campaign.channel]
        )[:1]
        Recipient.objects.filter(pk__in=sent, status=Recipient.Status.SENDING).update(
            status=Recipient.Status.SENT,
            sent_at=now,
            # The address it went to (bounces are matched by it; the record may change later).
            address=Substr(Subquery(address), 1, 254),
            message_id=Concat(
                Value(f"<gx.{campaign.pk}."), Cast("id", CharField()), Value(f"@{_domain()}>")
            ),
        )


def _fail(campaign: Campaign, failures: list[tuple[Recipient, str, bool]], now) -> None:
    """Refused by the server: failed (bounced), and the material reservation is released."""
    with transaction.atomic():
        for r, error, bounced in failures:
            Recipient.objects.filter(pk=r.pk).update(
                status=Recipient.Status.FAILED,
                error=error[:300],
                bounced_at=now if bounced else None,
            )
        ContactAttempt.objects.filter(
            campaign=campaign,
            outcome=ContactAttempt.Outcome.SENT,
            customer_id__in=[r.customer_id for r, _e, _b in failures],
        ).delete()


def _release(campaign: Campaign, rows: list[Recipient]) -> None:
    """Claimed but not handed over (the server went away): back to the queue."""
    if not rows:
        return
    with transaction.atomic():
        Recipient.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Recipient.Status.PENDING, claim=""
        )
        ContactAttempt.objects.filter(
            campaign=campaign,
            outcome=ContactAttempt.Outcome.SENT,
            customer_id__in=[r.customer_id for r in rows],
        ).delete()


_SPLIT_POINTS = re.compile(r"[;,\s]")


class _QuickFold(Compat32):
    """Django's policy (compat32) with shortcuts for the common headers: ASCII and one line,
    either short enough not to fold, or a single word compat32 cannot split (a long
    List-Unsubscribe URL), which it puts on a continuation line of its own. compat32 reaches
    the same bytes after building a Header object and running its folding algorithm — most
    of the time a message spent in serialisation. Everything else goes the standard way
    (tests/marketing/test_campaign_email.py compares the bytes)."""

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii() and value == value.strip():
            limit = self.max_line_length or 10**6
            if len(name) + len(value) + 2 <= limit and "\n" not in value and "\r" not in value:
                if "  " not in value:
                    return f"{name}: {value}{self.linesep}"
            elif not _SPLIT_POINTS.search(value):
                return f"{name}: {self.linesep} {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


QUICK_FOLD = _QuickFold()


class CampaignEmail(EmailMultiAlternatives):
    def message(self):
        msg = super().message()
        msg.policy = QUICK_FOLD  # inherited by the parts when the generator flattens them
        return msg


_FOLD_CRLF = QUICK_FOLD.clone(linesep="\r\n")
# An address Django's sanitize_address returns unchanged (ASCII, no display name).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")
_NEWLINES = re.compile(r"\r\n|\r|\n")
LINE_LIMIT = 998  # RFC 5322; Django's limit before it encodes a part quoted-printable


def _long_lines(text: str) -> bool:
    """A line over 998 bytes (checked in characters first: UTF-8 takes at most 4 each)."""
    return any(
        len(line) * 4 > LINE_LIMIT and len(line.encode()) > LINE_LIMIT for line in text.splitlines()
    )


def _part(subtype: str, text: str) -> bytes:
    """One text part as Django writes it (SafeMIMEText, UTF-8, 7bit or 8bit)."""
    cte = "7bit" if text.isascii() else "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return (head + _NEWLINES.sub("\r\n", text)).encode()


class Renderer:
    """Per-campaign rendering: templates compiled and the layout inlined once."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.template = campaign.template
        self.from_email = _setting("GUANXI_MARKETING_FROM", settings.DEFAULT_FROM_EMAIL)
        # The envelope sender for the direct path: only a plain mailbox is used as it is.
        self.envelope_from = self.from_email if _PLAIN_ADDRESS.match(self.from_email or "") else ""
        self.connection: Any = None  # the e-mail channel's SMTP session
        self.pool: list[Any] = []  # more sessions, sent over in parallel (_deliver_email)
        # The public addresses of the links, resolved once: only the token changes.
        self._paths = {
            name: tokens.public_url(reverse(f"marketing:{name}", args=["GXTOKENGX"]))
            for name in ("unsubscribe", "click", "open")
        }

    def _url(self, name: str, token: str) -> str:
        return self._paths[name].replace("GXTOKENGX", token, 1)

    def close(self) -> None:
        for conn in [self.connection, *self.pool]:
            if conn is not None:
                # Closing a dead session must not mask the error that killed it.
                with contextlib.suppress(Exception):
                    conn.close()
        self.connection, self.pool = None, []

    def language(self, customer_id: int, languages: dict[int, str]) -> str:
        lang = languages.get(customer_id, "zh-hans")
        return "en" if lang.startswith("en") and self.template.body_en else "zh-hans"

    def parts(self, recipient: Recipient, lang: str) -> tuple[str, str]:
        t = self.template
        owner = recipient.customer.owner
        context = templating.context_for(recipient.customer, str(owner) if owner else "")
        subject = templating.render(t.subject_en if lang == "en" else t.subject_zh, context)
        body = templating.render(t.body_en if lang == "en" else t.body_zh, context)
        return subject.strip(), body

    def unsubscribe_url(self, recipient: Recipient) -> str:
        token = tokens.unsubscribe_token(
            customer_id=recipient.customer_id,
            channel=self.campaign.channel,
            purpose=self.campaign.purpose,
            campaign_id=self.campaign.pk,
        )
        return self._url("unsubscribe", token)

    def content(self, recipient: Recipient, lang: str) -> tuple[str, str, str, str]:
        """The message's subject, text, HTML and unsubscribe address."""
        subject, body = self.parts(recipient, lang)
        unsubscribe = self.unsubscribe_url(recipient)
        with translation.override(lang):
            footer_text = _("To stop receiving these e-mails: %s") % unsubscribe
            footer_link = _("Unsubscribe")
            footer_why = _("You receive this because you are a customer of ours.")
        text = f"{body.rstrip()}\n\n--\n{footer_text}\n"

        def link(url: str) -> str:
            return self._url("click", tokens.click_token(recipient_id=recipient.pk, url=url))

        pixel = self._url("open", tokens.open_token(recipient_id=recipient.pk))
        before, after = templating.email_shell(lang)
        html = (
            before
            + templating.style_body(templating.text_to_html(body, link))
            + '<p style="margin:24px 0 0;font-size:12px;color:#6c757d">'
            + f'{footer_why} <a style="color:#6c757d" href="{unsubscribe}">{footer_link}</a></p>'
            + f'<img src="{pixel}" width="1" height="1" alt="" style="display:block;border:0">'
            + after
        )
        return subject, text, html, unsubscribe

    def headers(self, recipient: Recipient, unsubscribe: str) -> dict[str, str]:
        return {
            "Message-ID": recipient.message_id,
            # RFC 8058: a one-click POST to this address unsubscribes; a GET only shows a page.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Guanxi-Campaign": str(self.campaign.pk),
        }

    def email(self, recipient: Recipient, lang: str) -> EmailMultiAlternatives:
        subject, text, html, unsubscribe = self.content(recipient, lang)
        message = CampaignEmail(
            subject=subject,
            body=text,
            from_email=self.from_email,
            to=[recipient.address],
            headers=self.headers(recipient, unsubscribe),
        )
        message.attach_alternative(html, "text/html")
        return message

    def raw_email(self, recipient: Recipient, lang: str) -> bytes | None:
        """The bytes Django's mail API makes of `email()` (the same headers, folded by the
        same policy, and the same parts), written directly: building the MIME tree and
        flattening it cost most of a message's time. None where this shortcut does not
        apply and `email()` must go the standard way: an address or sender that is not a
        plain ASCII mailbox, a header with a line break, a line over 998 bytes (Django then
        switches to quoted-printable). The Date and the boundary differ from message to
        message anyway; tests/marketing/test_campaign_email.py compares the rest."""
        if not (_PLAIN_ADDRESS.match(recipient.address) and self.envelope_from):
            return None
        subject, text, html, unsubscribe = self.content(recipient, lang)
        if "\n" in subject or "\r" in subject or _long_lines(text) or _long_lines(html):
            return None
        # The generator's own kind of boundary (so the headers fold alike), checked absent.
        boundary = "=" * 15 + f"{secrets.randbelow(10**19):019d}" + "=="
        if boundary in text or boundary in html:
            return None
        fold = _FOLD_CRLF.fold_binary
        head = [
            ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
            ("MIME-Version", "1.0"),
            (
                "Subject",
                Header(subject).encode()
                if subject.isascii()
                else Header(subject, settings.DEFAULT_CHARSET).encode(),
            ),
            ("From", self.from_email),
            ("To", recipient.address),
            ("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
            *self.headers(recipient, unsubscribe).items(),
        ]
        out = [fold(name, value) for name, value in head]
        out.append(b"\r\n--" + boundary.encode() + b"\r\n")
        out.append(_part("plain", text))
        out.append(b"\r\n--" + boundary.encode() + b"\r\n")
        out.append(_part("html", html))
        out.append(b"\r\n--" + boundary.encode() + b"--\r\n")
        return b"".join(out)

    def sms(self, recipient: Recipient, lang: str) -> str:
        _subject, body = self.parts(recipient, lang)
        # Chinese rules for commercial SMS: the way to opt out is in every message.
        suffix = " Reply T to unsubscribe" if lang == "en" else " 回T退订"
        return body.strip() + (suffix if self.campaign.purpose == "marketing" else "")

    def wechat(self, recipient: Recipient, lang: str) -> str:
        _subject, body = self.parts(recipient, lang)
        # No reply keyword on WeChat: the signed unsubscribe link (a page; only its POST
        # withdraws) ends every promotion, as in an e-mail.
        if self.campaign.purpose != "marketing":
            return body.strip()
        with translation.override(lang):
            footer = _("Unsubscribe: %s") % self.unsubscribe_url(recipient)
        return f"{body.strip()}\n\n{footer}"


def _sessions(renderer, count: int) -> list:
    """The run's SMTP sessions, opened by the first batch and kept (closed by campaign_run)."""
    if renderer.connection is None:
        renderer.connection = email_connection()
        renderer.connection.open()
    while len(renderer.pool) < count - 1:
        conn = email_connection()
        conn.open()
        renderer.pool.append(conn)
    return [renderer.connection, *renderer.pool[: count - 1]]


def _send_share(conn, renderer, rows, languages):
    """One session's share of a batch: (sent ids, refused, unsent rows, error)."""
    sent, failures = [], []
    # Django's SMTP backend: its open session takes the message's bytes directly.
    direct = getattr(conn, "connection", None)
    direct = direct if isinstance(direct, smtplib.SMTP) else None
    for index, r in enumerate(rows):
        lang = renderer.language(r.customer_id, languages)
        try:
            data = renderer.raw_email(r, lang) if direct is not None else None
            if data is not None and direct is not None:
                direct.sendmail(renderer.envelope_from, [r.address], data)
            else:
                conn.send_messages([renderer.email(r, lang)])
        except smtplib.SMTPRecipientsRefused as exc:
            failures.append((r, str(exc.recipients)[:300], True))
            continue
        except (smtplib.SMTPException, OSError) as exc:
            return sent, failures, rows[index:], exc
        sent.append(r.pk)
    return sent, failures, [], None


def _deliver_email(campaign, renderer, rows, languages, now, confirm_every):
    """The batch over GUANXI_MARKETING_CONNECTIONS sessions at once: each SMTP transaction
    waits four round trips for the server, and the sessions' waits overlap. The batch is
    confirmed in one UPDATE; a session that fails gives its unsent rows back to the queue."""
    width = max(1, min(int(_setting("GUANXI_MARKETING_CONNECTIONS", 4)), len(rows)))
    sessions = _sessions(renderer, width)
    shares = [rows[i::width] for i in range(width)]
    if width == 1:
        results = [_send_share(sessions[0], renderer, rows, languages)]
    else:
        with ThreadPoolExecutor(max_workers=width) as pool:
            results = list(
                pool.map(
                    lambda pair: _send_share(pair[0], renderer, pair[1], languages),
                    zip(sessions, shares, strict=True),
                )
            )
    sent = [pk for result in results for pk in result[0]]
    failures = [f for result in results for f in result[1]]
    unsent = [r for result in results for r in result[2]]
    errors = [result[3] for result in results if result[3] is not None]
    _confirm(campaign, sent, timezone.now())
    if failures:
        _fail(campaign, failures, now)
    if errors:
        _release(campaign, unsent)
        raise errors[0]


def _deliver_by_provider(backend, text_of, refused, campaign, rows, now, confirm_every):
    """SMS and WeChat: one provider call per message, confirmed in batches."""
    sent, failures = [], []
    for index, r in enumerate(rows):
        try:
            backend.send(r.address, text_of(r), r.message_id)
        except refused as exc:
            failures.append((r, str(exc), True))
            continue
        except Exception:
            _confirm(campaign, sent, now)
            _release(campaign, rows[index:])
            raise
        sent.append(r.pk)
        if len(sent) >= confirm_every:
            _confirm(campaign, sent, timezone.now())
            sent = []
    _confirm(campaign, sent, timezone.now())
    if failures:
        _fail(campaign, failures, now)


def _deliver_sms(campaign, renderer, rows, languages, now, confirm_every):
    def text_of(r):
        return renderer.sms(r, renderer.language(r.customer_id, languages))

    _deliver_by_provider(sms_backend(), text_of, SmsRefused, campaign, rows, now, confirm_every)


def _deliver_wechat(campaign, renderer, rows, languages, now, confirm_every):
    def text_of(r):
        return renderer.wechat(r, renderer.language(r.customer_id, languages))

    _deliver_by_provider(
        wechat_backend(), text_of, WechatRefused, campaign, rows, now, confirm_every
    )


def _callers(campaign: Campaign) -> list[int]:
    branch = campaign.org_unit.branch()
    return list(
        User.objects.filter(
            is_active=True, roles__role=Role.SALES, org_unit_id__in=branch.subtree_ids()
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def _deliver_phone(campaign, renderer, rows, languages, now, confirm_every):
    """Call tasks: the customer's own salesperson when they are on the branch's team,
    otherwise spread evenly over the branch's salespeople (fewest open calls first)."""
    callers = _callers(campaign)
    load = {uid: 0 for uid in callers}
    for uid in Recipient.objects.filter(
        campaign=campaign, status=Recipient.Status.SENT, assignee_id__in=callers
    ).values_list("assignee_id", flat=True):
        load[uid] += 1
    with transaction.atomic():
        for r in rows:
            owner = r.customer.owner_id
            assignee = (
                owner
                if owner in load
                else (min(load, key=lambda u: (load[u], u)) if load else None)
            )
            if assignee is not None:
                load[assignee] += 1
            Recipient.objects.filter(pk=r.pk).update(
                status=Recipient.Status.SENT, sent_at=now, assignee_id=assignee
            )


def _deliver_post(campaign, renderer, rows, languages, now, confirm_every):
    """Letters: a sent row is one letter in the printable batch (marketing:letters)."""
    _confirm(campaign, [r.pk for r in rows], now)


DELIVER: dict[str, Callable[..., None]] = {
    Channel.EMAIL: _deliver_email,
    Channel.SMS: _deliver_sms,
    Channel.WECHAT: _deliver_wechat,
    Channel.PHONE: _deliver_phone,
    Channel.POST: _deliver_post,
}


def campaign_run(
    *, campaign_id: int, batch_size: int | None = None, rate: float | None = None
) -> dict:
    """Send what is due of one campaign; safe to call again at any time (idempotent)."""
    token = uuid.uuid4().hex
    now = timezone.now()
    campaign = _acquire(campaign_id, token, now)
    if campaign is None:
        return {"sent": 0, "skipped": "busy or not due"}
    campaign = Campaign.objects.select_related("template", "org_unit").get(pk=campaign.pk)
    batch_size = batch_size or _setting("GUANXI_MARKETING_BATCH", 100)
    rate = _setting("GUANXI_MARKETING_RATE", 200) if rate is None else rate
    confirm_every = batch_size
    renderer = Renderer(campaign)
    deliver = DELIVER[campaign.channel]
    started, handed = time.monotonic(), 0
    try:
        handed = _loop(campaign, token, renderer, deliver, batch_size, rate, confirm_every, started)
    except Exception:
        renderer.close()
        # The server went away: what was not handed over is back in the queue; let the next
        # scheduled scan retry without waiting for the lease.
        Campaign.objects.filter(pk=campaign.pk, runner=token).update(runner="", heartbeat_at=None)
        raise
    renderer.close()
    _finish(campaign, token)
    return {"sent": handed}


def _loop(campaign, token, renderer, deliver, batch_size, rate, confirm_every, started) -> int:
    handed = 0
    while True:
        now = timezone.now()
        rows = _claim(campaign, token, batch_size, now)
        if rows is None:
            break
        if not rows:
            continue
        languages = dict(
            ContactProfile.objects.filter(
                customer_id__in=[r.customer_id for r in rows]
            ).values_list("customer_id", "language")
        )
        deliver(campaign, renderer, rows, languages, now, confirm_every)
        handed += len(rows)
        Campaign.objects.filter(pk=campaign.pk, runner=token).update(heartbeat_at=timezone.now())
        if rate:
            # Throttle: never faster than `rate` messages a second on average.
            ahead = handed / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    return handed


def _finish(campaign: Campaign, token: str) -> None:
    """Done, or back to scheduled for the next quiet-hour window opening."""
    with transaction.atomic():
        waiting = Recipient.objects.filter(
            campaign=campaign, status=Recipient.Status.PENDING
        ).aggregate(at=Min("not_before"))
        pending = Recipient.objects.filter(
            campaign=campaign, status=Recipient.Status.PENDING
        ).exists()
        update: dict[str, object] = {"runner": "", "heartbeat_at": None}
        if pending:
            update.update(
                status=Campaign.Status.SCHEDULED, scheduled_at=waiting["at"] or timezone.now()
            )
        else:
            update.update(status=Campaign.Status.DONE, finished_at=timezone.now())
        Campaign.objects.filter(pk=campaign.pk, runner=token).update(**update)


def due_campaigns(now=None) -> list[int]:
    now = now or timezone.now()
    return list(
        Campaign.objects.filter(
            Q(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now)
            | Q(status=Campaign.Status.SENDING, heartbeat_at__lt=now - LEASE)
            | Q(status=Campaign.Status.SENDING, runner="")
        ).values_list("id", flat=True)
    )
