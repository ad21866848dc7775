"""Timeline source of this app: the record's own history from the audit trail."""

from django.utils.translation import gettext as _

from guanxi.core.models import AuditEntry
from guanxi.core.timeline import TimelineEvent

VERBS = {
    "customer.create": _("Record created"),
    "customer.update": _("Record changed"),
    "customer.archive": _("Archived"),
    "customer.restore": _("Restored"),
    "customer.merge": _("Another record merged in"),
    "customer.merged_into": _("Merged into another record"),
    "customer.reveal": _("Masked field revealed"),
    "customer.reassign": _("Owner changed"),
    "customer.share": _("Shared"),
    "customer.unshare": _("Sharing removed"),
    "customer.household_link": _("Household linked"),
    "customer.contact_add": _("Contact person added"),
    "customer.date_add": _("Important date added"),
    "customer.follow_up_set": _("Follow-up rescheduled"),
}


def record_events(*, customer, viewer, limit: int):
    rows = (
        AuditEntry.objects.filter(target_type="customers.customer", target_id=customer.pk)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
    for row in rows:
        changed = ", ".join(k for k in row.changes if k not in ("moved", "filled"))
        yield TimelineEvent(
            at=row.created_at,
            kind="record",
            title=str(VERBS.get(row.verb, row.verb)),
            body=row.note or (changed if row.verb == "customer.update" else ""),
            actor=str(row.actor or _("system")),
            icon="pencil-square",
        )
