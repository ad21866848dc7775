"""C4/C8: a deposit, payment or agreement submitted twice takes effect once.

Double clicks, browser retries and twenty identical simultaneous requests: one instalment,
one payment, one agreement. API writes accept an `Idempotency-Key` header (the repeat gets
the first answer); web forms carry a one-time token (`{% once_token %}`).
"""

import json
import re

import pytest
from django.test import Client

from guanxi.core.errors import Forbidden
from guanxi.core.models import IdempotencyKey, Role
from guanxi.sales import services
from guanxi.sales.models import Agreement, Instalment, Payment
from tests.conftest import make_user
from tests.races import run_together

from .conftest import deposit

RACERS = 20


def api_deposit(client, deal, unit, key=None, amount="20000.00"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        f"/api/v1/sales/deals/{deal.pk}/deposit",
        json.dumps({"kind": "small_deposit", "amount": amount, "unit_id": unit.pk}),
        content_type="application/json",
        **headers,
    )


def clients_for(user, n):
    clients = []
    for _ in range(n):
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_key", [True, False], ids=["same key", "no key"])
def test_twenty_identical_deposit_requests_make_one_instalment(owner, deal, units, with_key):
    clients = clients_for(owner, RACERS)

    def job(client):
        def run():
            response = api_deposit(client, deal, units[0], key="dep-1" if with_key else None)
            return response.status_code, response.json()

        return run

    outcomes = run_together(*(job(c) for c in clients))
    statuses = sorted(o[0] if isinstance(o, tuple) else repr(o) for o in outcomes)
    if with_key:  # every repeat gets the first answer
        assert statuses == [200] * RACERS, outcomes
        assert len({json.dumps(o[1], sort_keys=True) for o in outcomes}) == 1
    else:  # the repeats are refused with a code
        assert statuses == [200] + [409] * (RACERS - 1), outcomes
        assert {o[1]["code"] for o in outcomes if o[0] == 409} == {"deposit_taken"}
    assert Instalment.objects.filter(deal=deal).count() == 1


def test_a_repeated_key_replays_the_answer_without_running_again(client, owner, deal, units):
    client.force_login(owner)
    first = api_deposit(client, deal, units[0], key="k-1")
    again = api_deposit(client, deal, units[0], key="k-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Instalment.objects.filter(deal=deal).count() == 1


def test_a_key_reused_for_another_body_is_refused(client, owner, deal, units):
    client.force_login(owner)
    api_deposit(client, deal, units[0], key="k-2")
    response = api_deposit(client, deal, units[0], key="k-2", amount="30000.00")
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == (
        "idempotency_key_reused",
        "Idempotency-Key",
    )


def test_keys_belong_to_their_caller(client, owner, manager, deal, units):
    client.force_login(owner)
    api_deposit(client, deal, units[0], key="shared")
    other = Client()
    other.force_login(manager)
    response = api_deposit(other, deal, units[0], key="shared")
    assert response.status_code == 409  # ran for the manager: the deposit is already taken
    assert response.json()["code"] == "deposit_taken"
    assert not response.has_header("Idempotent-Replayed")


def test_a_refused_request_with_a_key_can_be_retried_after_login(client, owner, deal, units):
    response = api_deposit(client, deal, units[0], key="k-3")
    assert response.status_code == 401
    client.force_login(owner)
    assert api_deposit(client, deal, units[0], key="k-3").status_code == 200


def one_time_token(page: str, form_id: str) -> str:
    form = page[page.index(f'id="{form_id}"') :]
    return re.search(r'name="once_token" value="([0-9a-f]+)"', form).group(1)


def test_a_double_clicked_deposit_form_makes_one_instalment(client, owner, deal, units):
    client.force_login(owner)
    token = one_time_token(client.get(f"/sales/deals/{deal.pk}/").content.decode(), "deposit-form")
    data = {"kind": "small_deposit", "amount": "5000.00", "unit": str(units[0].pk)}
    first = client.post(f"/sales/deals/{deal.pk}/deposit/", {**data, "once_token": token})
    second = client.post(f"/sales/deals/{deal.pk}/deposit/", {**data, "once_token": token})
    assert (first.status_code, second.status_code) == (302, 302)
    assert second["Location"] == first["Location"]
    assert Instalment.objects.filter(deal=deal).count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_identical_payment_requests_record_one_payment(owner, finance, deal, units):
    deposit(owner, deal, units[0], amount="20000")
    clients = clients_for(finance, RACERS)
    body = json.dumps(
        {"amount": "20000.00", "method": "bank", "receipt_number": "R-1", "deal_id": deal.pk}
    )

    def job(client, n):
        def run():
            response = client.post(
                "/api/v1/sales/payments",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="pay-1" if n % 2 else "",
            )
            return response.status_code

        return run

    outcomes = run_together(*(job(c, n) for n, c in enumerate(clients)))
    assert set(outcomes) <= {201, 409}, outcomes
    assert Payment.objects.filter(deal=deal).count() == 1


def test_an_agreement_submitted_twice_is_issued_once(client, owner, deal, units):
    deposit(owner, deal, units[0])
    client.force_login(owner)
    token = one_time_token(
        client.get(f"/sales/deals/{deal.pk}/agreement/").content.decode(), "issue-agreement-form"
    )
    for _ in range(2):
        response = client.post(f"/sales/deals/{deal.pk}/agreement/", {"once_token": token})
        assert response.status_code == 302
    assert Agreement.objects.filter(deal=deal).count() == 1
    # Without a token (an old page, a script) the service refuses the second one.
    response = client.post(f"/sales/deals/{deal.pk}/agreement/", follow=True)
    assert Agreement.objects.filter(deal=deal).count() == 1
    assert "already has its agreement" in response.content.decode()


def test_finance_who_sold_the_deal_cannot_record_its_money(org, flat, units):
    from tests.conftest import new_customer

    from .conftest import open_deal

    both = make_user("sales_finance", org["bj_sales"], Role.SALES, Role.FINANCE)
    deal = open_deal(both, new_customer(both, "赵六", ("13900005555",)), flat)
    deposit(both, deal, units[0], amount="20000")
    with pytest.raises(Forbidden) as caught:
        services.payment_record(
            actor=both, amount="20000.00", method="bank", receipt_number="R-9", deal_id=deal.pk
        )
    assert caught.value.code == "own_sale"
    assert not Payment.objects.exists()


def test_old_keys_are_kept_per_caller(client, owner, deal, units):
    client.force_login(owner)
    api_deposit(client, deal, units[0], key="k-9")
    assert IdempotencyKey.objects.filter(owner=f"user:{owner.pk}", key="k-9").count() == 1
