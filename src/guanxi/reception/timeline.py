"""Timeline source of this app: visits and calls at the desk, with the rule applied."""

from django.utils.translation import gettext as _

from guanxi.core.timeline import TimelineEvent

from .models import Visit


def visit_events(*, customer, viewer, limit: int):
    rows = (
        Visit.objects.filter(customer=customer)
        .select_related("receiver", "assistant", "registered_by")
        .order_by("-registered_at")[:limit]
    )
    for row in rows:
        badges = [row.get_intention_display()] if row.intention else []
        if row.case_number:
            badges.append(_("case %d") % row.case_number)
        who = str(row.receiver) if row.receiver else _("not yet received")
        if row.assistant:
            who += " · " + _("assisted by %s") % row.assistant
        yield TimelineEvent(
            at=row.registered_at,
            kind="visit",
            title=f"{row.get_kind_display()} · {who}",
            body=_(row.explanation) if row.explanation else row.notes,
            actor=str(row.registered_by),
            icon="door-open" if row.kind == "visit" else "telephone",
            badges=badges,
        )
