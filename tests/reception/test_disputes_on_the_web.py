"""Disputes are first-class on the web too (SPEC C3 "Anything not covered: logged as a
dispute; the manager decides"; issue 11 item 7): the desk or a manager opens one by hand
from the customer page; the decision page shows the customer's visit history, who is
involved and the credit in force; a refused form keeps what was typed and names the field."""

import pytest

from guanxi.core.errors import Forbidden
from guanxi.core.models import AuditEntry, Role
from guanxi.reception import services
from guanxi.reception.models import Dispute
from tests.conftest import make_user

from .helpers import new_phone

PHONE = "13911110000"


@pytest.fixture
def bs_customer(desk, trio):
    """A customer received by B (A took the first new visitor)."""
    desk.walk_in()
    visit = desk.walk_in(PHONE, "钱先生")
    assert visit.receiver_id == trio[1].pk
    return visit


@pytest.fixture
def finance(org):
    return make_user("finance", org["bj"], Role.FINANCE, display_name="吴财务")


@pytest.mark.parametrize("who", ["receptionist", "manager"])
def test_the_desk_or_a_manager_opens_a_dispute_from_the_customer_page(
    client, request, who, trio, bs_customer
):
    a, b, _c = trio
    actor = request.getfixturevalue(who)
    client.force_login(actor)
    page = client.get(f"/customers/{bs_customer.customer_id}/").content.decode()
    assert f'href="/reception/disputes/new/{bs_customer.customer_id}/"' in page
    response = client.post(
        f"/reception/disputes/new/{bs_customer.customer_id}/",
        {"description": "李娜说上周电话接待过", "parties": [str(a.pk), str(b.pk)]},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{bs_customer.customer_id}/"
    dispute = Dispute.objects.get(customer_id=bs_customer.customer_id)
    assert dispute.state == "open" and dispute.opened_by == actor
    assert {p.pk for p in dispute.parties.all()} == {a.pk, b.pk}
    assert AuditEntry.objects.filter(verb="dispute.open", target_id=dispute.customer_id).exists()
    # The customer page now shows the open dispute.
    page = client.get(f"/customers/{bs_customer.customer_id}/").content.decode()
    assert 'id="panel-disputes"' in page and "李娜说上周电话接待过" in page


def test_an_empty_description_keeps_the_chosen_parties_and_names_the_field(
    client, receptionist, trio, bs_customer
):
    a, _b, _c = trio
    client.force_login(receptionist)
    response = client.post(
        f"/reception/disputes/new/{bs_customer.customer_id}/",
        {"description": "  ", "parties": [str(a.pk)]},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="description"' in html
    assert f'name="parties" value="{a.pk}" checked' in html
    assert not Dispute.objects.exists()


def test_a_party_outside_the_branch_is_refused_on_its_field_and_the_text_stays(
    client, receptionist, outsider, bs_customer
):
    client.force_login(receptionist)
    response = client.post(
        f"/reception/disputes/new/{bs_customer.customer_id}/",
        {"description": "外店销售说是他的客户", "parties": [str(outsider.pk)]},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="party_ids"' in html and "外店销售说是他的客户" in html
    assert not Dispute.objects.exists()


def test_finance_neither_sees_the_button_nor_opens_a_dispute(client, finance, bs_customer):
    with pytest.raises(Forbidden):
        services.dispute_open(actor=finance, customer_id=bs_customer.customer_id, description="x")
    client.force_login(finance)
    page = client.get(f"/customers/{bs_customer.customer_id}/").content.decode()
    assert "open-dispute-link" not in page
    assert client.get(f"/reception/disputes/new/{bs_customer.customer_id}/").status_code == 404


def test_another_branchs_desk_gets_404(client, sh_manager, bs_customer):
    client.force_login(sh_manager)
    assert client.get(f"/reception/disputes/new/{bs_customer.customer_id}/").status_code == 404
    assert client.get(f"/reception/disputes/new/{2**63}/").status_code == 404


@pytest.fixture
def dispute(receptionist, trio, bs_customer):
    a, b, _c = trio
    return services.dispute_open(
        actor=receptionist,
        customer_id=bs_customer.customer_id,
        description="两人都说接待过",
        party_ids=[a.pk, b.pk],
    )


def test_the_decision_page_shows_the_customers_visit_history(
    client, manager, desk, trio, bs_customer, dispute
):
    a, b, _c = trio
    desk.walk_in(PHONE)  # a second visit, received by B again
    client.force_login(manager)
    html = client.get(f"/reception/disputes/{dispute.pk}/").content.decode()
    history = html.split('id="visit-history"')[1].split("</table>")[0]
    assert history.count("<tr>") == 1 + 2  # the header and both visits
    assert str(b) in history and str(desk.actor) in history
    parties = html.split('id="dispute-parties">')[1].split("</dd>")[0]
    assert str(a) in parties and str(b) in parties


def test_the_split_in_force_shows_as_a_hint_and_the_credit_starts_on_its_holder(
    client, manager, trio, dispute
):
    a, b, _c = trio
    client.force_login(manager)
    html = client.get(f"/reception/disputes/{dispute.pk}/").content.decode()
    assert f'name="pct-{b.pk}" inputmode="decimal" value="" placeholder="100"' in html
    assert f'name="pct-{a.pk}" inputmode="decimal" value="" placeholder="0"' in html
    assert f'<option value="{b.pk}" selected>' in html


def test_a_wrong_total_keeps_the_typed_percentages_and_names_the_field(
    client, manager, trio, dispute
):
    a, b, _c = trio
    client.force_login(manager)
    response = client.post(
        f"/reception/disputes/{dispute.pk}/",
        {"credit": str(a.pk), f"pct-{a.pk}": "60", f"pct-{b.pk}": "30", "reason": "客户说明"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="split"' in html
    assert f'name="pct-{a.pk}" inputmode="decimal" value="60"' in html
    assert f'name="pct-{b.pk}" inputmode="decimal" value="30"' in html
    assert f'<option value="{a.pk}" selected>' in html
    assert "客户说明" in html
    dispute.refresh_from_db()
    assert dispute.state == "open"


def test_a_missing_reason_is_named_on_its_field(client, manager, trio, dispute):
    a, _b, _c = trio
    client.force_login(manager)
    response = client.post(
        f"/reception/disputes/{dispute.pk}/",
        {"credit": str(a.pk), f"pct-{a.pk}": "100", "reason": ""},
    )
    assert response.status_code == 422
    assert 'data-field="reason"' in response.content.decode()


def test_a_decided_dispute_moves_to_the_decided_list(client, manager, trio, dispute):
    a, _b, _c = trio
    client.force_login(manager)
    response = client.post(
        f"/reception/disputes/{dispute.pk}/",
        {"credit": str(a.pk), f"pct-{a.pk}": "100", "reason": "客户确认"},
    )
    assert response.status_code == 302
    assert "两人都说接待过" not in client.get("/reception/disputes/").content.decode()
    decided = client.get("/reception/disputes/?state=decided").content.decode()
    assert "两人都说接待过" in decided and "客户确认" in decided


def test_the_api_filters_disputes_by_branch_and_by_party(
    client, manager, trio, org, dispute, receptionist
):
    a, _b, c = trio
    other = services.dispute_open(
        actor=receptionist, customer_id=dispute.customer_id, description="y", party_ids=[c.pk]
    )
    client.force_login(manager)
    api = "/api/v1/reception/disputes"
    assert [d["id"] for d in client.get(api, {"party_id": a.pk}).json()] == [dispute.pk]
    assert [d["id"] for d in client.get(api, {"party_id": c.pk}).json()] == [other.pk]
    by_branch = client.get(api, {"branch_id": org["bj"].pk}).json()
    assert {d["id"] for d in by_branch} == {dispute.pk, other.pk}
    assert client.get(api, {"branch_id": org["sh"].pk}).json() == []
    assert client.get(api, {"party_id": 2**63}).status_code == 422


def test_a_new_visitor_has_no_visits_to_show_before_registration(client, receptionist, roster):
    from guanxi.customers.services import customer_create

    customer = customer_create(
        actor=receptionist, data={"name": "新客"}, phones=[new_phone()], allow_similar=True
    )
    client.force_login(receptionist)
    html = client.get(f"/reception/disputes/new/{customer.pk}/").content.decode()
    assert 'id="visit-history"' in html
