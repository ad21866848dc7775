"""SPEC (no raw codes): the audit log and the customer timeline read as sentences in the
reader's language — field labels and formatted values ("负责人：张伟 → 李娜"), never
`owner_id: [4, 3]`, `payment.record` or a Python repr."""

import re

import pytest
from django.utils import translation

from guanxi.core.audit import audit_record
from guanxi.core.audit_display import describe_entry, register_audit_verb
from guanxi.core.models import AuditEntry

RAW = re.compile(r"\b[a-z]+_id\b|\b[a-z]+\.[a-z_]+\b|\[None|\{'|'\d+':")


def lines(entry, language="zh-hans"):
    with translation.override(language):
        described = describe_entry(entry, viewer=entry.actor)
        return described.action, [str(line) for line in described.lines]


def test_owner_change_names_both_people_in_chinese(owner, teammate, customer):
    entry = audit_record(
        actor=owner,
        verb="customer.reassign",
        target=customer,
        changes={"owner_id": [owner.pk, teammate.pk]},
    )
    action, changes = lines(entry)
    assert action == "负责人已变更" or "负责人" in "".join(changes)
    assert changes == ["负责人：张伟 → 李娜"]


def test_owner_change_in_english(owner, teammate, customer):
    entry = audit_record(
        actor=owner,
        verb="customer.reassign",
        target=customer,
        changes={"owner_id": [owner.pk, teammate.pk]},
    )
    assert lines(entry, "en") == ("Owner changed", ["Owner：张伟 → 李娜"])


def test_money_is_formatted_with_separators(owner, customer):
    entry = audit_record(
        actor=owner,
        verb="quote.issue",
        target=customer,
        changes={"price": [None, "2000000.00"], "discount_pct": [None, "25.37"]},
    )
    action, changes = lines(entry)
    assert action == "已出具报价"
    assert "价格：¥2,000,000.00" in changes and "折扣：25.37%" in changes


def test_commission_split_names_people_not_ids(owner, teammate, customer):
    entry = audit_record(
        actor=owner,
        verb="dispute.decide",
        target=customer,
        changes={
            "credit": [None, str(teammate.pk)],
            "split": [None, {str(owner.pk): "40", str(teammate.pk): "60"}],
        },
    )
    _, changes = lines(entry)
    assert "业绩归属：李娜" in changes
    assert "提成分配：张伟 40%、李娜 60%" in changes


def test_redistribution_counts_per_person(manager, owner, teammate, customer):
    entry = audit_record(
        actor=manager,
        verb="customers.redistribute",
        target=owner,
        changes={"to": [None, {str(teammate.pk): 674}], "method": [None, "even"]},
    )
    action, changes = lines(entry)
    assert action == "客户已重新分配"
    assert changes == ["转给：李娜 674", "方式：平均分配"]


def test_follow_up_time_is_a_local_date_not_a_repr(owner, customer):
    entry = audit_record(
        actor=owner,
        verb="customer.follow_up_set",
        target=customer,
        changes={"next_follow_up_at": ["None", "2026-12-05 02:30:00+00:00"]},
    )
    _, changes = lines(entry)
    assert changes == ["下次跟进：2026-12-05 10:30"]


def test_unknown_verb_still_reads_as_words(owner, customer):
    entry = audit_record(actor=owner, verb="customer.frobnicate", target=customer)
    action, _ = lines(entry, "en")
    assert "customer.frobnicate" not in action and action.startswith("Customer")


def test_an_app_registers_its_verb(owner, customer):
    register_audit_verb("ticket.close", "Ticket closed")
    entry = audit_record(actor=owner, verb="ticket.close", target=customer)
    assert lines(entry, "en")[0] == "Ticket closed"


@pytest.fixture
def trail(owner, teammate, manager, customer):
    audit_record(
        actor=owner,
        verb="customer.reassign",
        target=customer,
        changes={"owner_id": [owner.pk, teammate.pk]},
    )
    audit_record(
        actor=owner,
        verb="payment.record",
        target=customer,
        changes={"amount": [None, "20000.00"], "receipt": [None, "R-1"]},
    )
    audit_record(
        actor=manager,
        verb="dispute.decide",
        target=customer,
        changes={"split": [None, {str(owner.pk): "100"}]},
    )
    audit_record(
        actor=owner,
        verb="visit.receive",
        target=customer,
        changes={"visit": [None, 1], "receiver": [None, owner.pk], "case": [None, 2]},
    )
    return AuditEntry.objects.all()


def test_audit_log_page_shows_no_raw_codes(client, admin_user, trail, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    html = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    table = html[html.index('id="audit-entries"') :]
    assert "负责人：张伟 → 李娜" in table and "金额：¥20,000.00" in table
    assert "提成分配：张伟 100%" in table
    for code in ("owner_id", "payment.record", "customer.reassign", "[None", "{'"):
        assert code not in table


def test_audit_log_filters_by_person_and_date(client, admin_user, manager, trail):
    client.force_login(admin_user)
    response = client.get("/audit/", {"actor": manager.pk})
    assert [e.verb for e in response.context["entries"]] == ["dispute.decide"]
    response = client.get("/audit/", {"since": "2000-01-01", "until": "2000-01-02"})
    assert response.context["entries"] == []
    assert client.get("/audit/", {"since": "not-a-date"}).status_code == 200


def test_customer_timeline_reads_visits_as_words(client, owner, customer, trail, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(owner)
    html = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert "已接待来访" in timeline and "接待人：张伟" in timeline
    assert "visit.receive" not in timeline and "owner_id" not in timeline


def test_manager_home_activity_reads_as_words(client, manager, trail, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(manager)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "客户已重新分配" in html or "归属争议已裁定" in html
    assert "dispute.decide" not in html and "payment.record" not in html


def test_a_rule_explanation_in_the_note_reads_in_the_readers_language(owner, customer):
    explanation = (
        "New customer: received in turn; the first registration owns the customer "
        "for the protection period."
    )
    entry = audit_record(actor=owner, verb="visit.receive", target=customer, note=explanation)
    with translation.override("zh-hans"):
        note = describe_entry(entry, viewer=owner).note
    assert note != explanation and re.search(r"[\u4e00-\u9fff]", note)


def test_a_typed_note_is_shown_as_typed(owner, customer):
    entry = audit_record(actor=owner, verb="customer.archive", target=customer, note="客户搬走了")
    with translation.override("en"):
        assert describe_entry(entry, viewer=owner).note == "客户搬走了"
