"""Timeline source of this app: the record's own history from the audit trail, in the
reader's language (core.audit_display turns verbs and changes into words)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit_display import describe_entries
from guanxi.core.models import AuditEntry
from guanxi.core.timeline import TimelineEvent

# On the customer's own page "the record" is understood; elsewhere core's labels apply.
VERBS = {
    "customer.create": gettext_lazy("Record created"),
    "customer.update": gettext_lazy("Record changed"),
    "customer.archive": gettext_lazy("Archived"),
    "customer.restore": gettext_lazy("Restored"),
    "customer.merge": gettext_lazy("Another record merged in"),
    "customer.merged_into": gettext_lazy("Merged into another record"),
    "customer.reveal": gettext_lazy("Masked field revealed"),
    "customer.reassign": gettext_lazy("Owner changed"),
    "customer.share": gettext_lazy("Shared"),
    "customer.unshare": gettext_lazy("Sharing removed"),
    "customer.household_link": gettext_lazy("Household linked"),
    "customer.contact_add": gettext_lazy("Contact person added"),
    "customer.date_add": gettext_lazy("Important date added"),
    "customer.follow_up_set": gettext_lazy("Follow-up rescheduled"),
}


def record_events(*, customer, viewer, limit: int):
    rows = describe_entries(
        AuditEntry.objects.filter(target_type="customers.customer", target_id=customer.pk)
        .select_related("actor")
        .order_by("-id")[:limit],
        viewer=viewer,
    )
    for row in rows:
        lines = [str(line) for line in row.described.lines]
        if row.verb == "customer.create":
            lines = []  # the record itself shows what it holds
        note = row.described.note
        body = "\n".join([*lines, note] if note else lines)
        yield TimelineEvent(
            at=row.created_at,
            kind="record",
            title=str(VERBS.get(row.verb, row.described.action)),
            body=body,
            actor=str(row.actor or _("system")),
            icon="pencil-square",
        )
