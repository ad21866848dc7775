"""Importing interaction history onto customers found by phone, e-mail or external ID."""

from datetime import datetime

from django.utils import timezone

from guanxi.interactions.models import Interaction
from guanxi.transfer.models import ImportJob

from .helpers import csv_bytes, import_file

HEADER = ["客户手机", "方式", "时间", "内容", "结果"]


def test_history_lands_on_the_customer_once(manager, customer):
    data = csv_bytes(
        [
            HEADER,
            ["13812345678", "来电", "2024年3月2日 14:30", "问价格", "接通"],
            ["13812345678", "拜访", "2024/3/5", "看样板间", ""],
        ]
    )
    job = import_file(manager, "history.csv", data, kind="interactions")
    assert job.state == ImportJob.State.SUCCEEDED, job.errors_preview
    assert job.created_count == 2
    again = import_file(manager, "history.csv", data, kind="interactions")
    assert (again.created_count, again.skipped_count) == (0, 2)
    calls = Interaction.objects.filter(customer=customer).order_by("occurred_at")
    assert [(i.kind, i.summary) for i in calls] == [("call_in", "问价格"), ("visit", "看样板间")]
    first = calls[0]
    assert timezone.localtime(first.occurred_at).replace(tzinfo=None) == datetime(
        2024, 3, 2, 14, 30
    )
    assert first.actor == manager
    customer.refresh_from_db()
    assert customer.last_contact_at == calls[1].occurred_at


def test_unknown_or_invisible_customer_is_reported(outsider, customer):
    """A Shanghai salesperson cannot attach history to a Beijing customer."""
    from guanxi.core.models import Role, UserRole

    UserRole.objects.create(user=outsider, role=Role.MANAGER)
    data = csv_bytes([HEADER, ["13812345678", "来电", "2024-03-02", "问价格", ""]])
    job = import_file(outsider, "history.csv", data, kind="interactions")
    assert job.state == ImportJob.State.REJECTED
    assert job.errors_preview[0]["line"] == 2
    assert not Interaction.objects.exists()
