"""Timeline source: messages sent or held back (with the reason), and consent decisions."""

from django.utils.translation import gettext as _

from guanxi.core.timeline import TimelineEvent

from .models import Channel, ConsentEvidence, ContactAttempt, EmailSuppression, Purpose, SkipReason


def contact_events(*, customer, viewer, limit: int):
    attempts = (
        ContactAttempt.objects.filter(customer_id=customer.pk)
        .select_related("campaign")
        .order_by("-at", "-id")[:limit]
    )
    for a in attempts:
        channel = Channel(a.channel).label
        what = a.campaign.name if a.campaign is not None else (a.material or a.source)
        if a.outcome == ContactAttempt.Outcome.SENT:
            title = _("%(channel)s sent: %(what)s") % {"channel": channel, "what": what}
            body, icon = "", "send"
        else:
            title = _("%(channel)s held back: %(what)s") % {"channel": channel, "what": what}
            body, icon = str(SkipReason(a.reason).label) if a.reason else "", "slash-circle"
        yield TimelineEvent(at=a.at, kind="contact", title=title, body=body, icon=icon)
    for e in ConsentEvidence.objects.filter(customer_id=customer.pk).select_related("recorded_by")[
        :limit
    ]:
        title = (
            _("Consent given: %(channel)s, %(purpose)s")
            if e.granted
            else _("Consent withdrawn: %(channel)s, %(purpose)s")
        ) % {
            "channel": Channel(e.channel).label,
            "purpose": Purpose(e.purpose).label,
        }
        yield TimelineEvent(
            at=e.at,
            kind="contact",
            title=title,
            body=f"{ConsentEvidence.Method(e.method).label} {e.evidence}".strip(),
            actor=str(e.recorded_by) if e.recorded_by else _("the customer"),
            icon="shield-check" if e.granted else "shield-x",
        )
    for b in EmailSuppression.objects.filter(customer_id=customer.pk).order_by("-at")[:limit]:
        yield TimelineEvent(
            at=b.at,
            kind="contact",
            title=_("E-mail bounced for good: no more e-mail to this address"),
            body=f"{b.status} {b.diagnostic}".strip(),
            icon="envelope-x",
        )
