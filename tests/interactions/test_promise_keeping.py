"""Only whoever answers for a promise marks it kept (SPEC C2, Roles): the salesperson who
made it, the customer's owner, a manager of the customer's unit or an administrator.
Seeing the customer (shared with a teammate, the branch's front desk) is not enough."""

from datetime import date

import pytest

from guanxi.core.errors import Forbidden, NotFound
from guanxi.customers.services import customer_share
from guanxi.interactions import services
from guanxi.interactions.models import Promise

REFUSAL = (
    "Only the salesperson who made the promise, the customer's owner or their manager "
    "marks it as kept."
)


@pytest.fixture
def promise(customer, owner, teammate):
    """sales1 promised 张三 a quote; 张三 is shared with sales2."""
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    return Promise.objects.create(
        customer=customer, made_by=owner, text="Send the quote", due_date=date(2026, 3, 5)
    )


@pytest.mark.parametrize("role", ["owner", "manager", "admin_user"])
def test_promise_is_kept_by_the_owner_a_manager_or_an_admin(request, promise, role):
    actor = request.getfixturevalue(role)
    kept = services.promise_complete(actor=actor, promise_id=promise.pk)
    assert kept.done_at is not None and kept.done_by_id == actor.pk


@pytest.mark.parametrize("role", ["teammate", "receptionist", "service_agent"])
def test_promise_is_not_kept_by_someone_who_only_sees_the_customer(request, promise, role):
    with pytest.raises(Forbidden) as caught:
        services.promise_complete(actor=request.getfixturevalue(role), promise_id=promise.pk)
    assert caught.value.code == "not_promise_keeper" and str(caught.value) == REFUSAL
    promise.refresh_from_db()
    assert promise.done_at is None and promise.done_by is None


@pytest.mark.parametrize("role", ["outsider", "sh_manager"])
def test_promise_of_a_hidden_customer_is_not_found(request, promise, role):
    with pytest.raises(NotFound):
        services.promise_complete(actor=request.getfixturevalue(role), promise_id=promise.pk)
    promise.refresh_from_db()
    assert promise.done_at is None


def test_promise_is_kept_by_the_teammate_who_made_it(promise, customer, teammate):
    own = Promise.objects.create(
        customer=customer, made_by=teammate, text="Bring samples", due_date=date(2026, 3, 6)
    )
    assert services.promise_complete(actor=teammate, promise_id=own.pk).done_by == teammate


def test_promise_refusal_is_shown_on_the_page(client, promise, customer, teammate):
    client.force_login(teammate)
    response = client.post(f"/promises/{promise.pk}/done/", follow=True)
    assert response.redirect_chain[-1][0] == f"/customers/{customer.pk}/"
    html = response.content.decode()
    assert "Only the salesperson who made the promise" in html
    assert "Promise marked as kept." not in html
    promise.refresh_from_db()
    assert promise.done_at is None


def test_promise_refusal_is_shown_on_the_page_in_chinese(
    client, promise, customer, teammate, settings
):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(teammate)
    response = client.post(
        f"/promises/{promise.pk}/done/", follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    html = response.content.decode()
    assert "只有作出承诺的销售、客户的负责人或其经理" in html
    assert "Only the salesperson" not in html


def test_promise_of_a_hidden_customer_is_404_on_the_page(client, promise, outsider):
    client.force_login(outsider)
    assert client.post(f"/promises/{promise.pk}/done/").status_code == 404


def test_promise_refusal_through_the_api(client, promise, teammate, owner):
    client.force_login(teammate)
    response = client.post(f"/api/v1/promises/{promise.pk}/done")
    assert response.status_code == 403
    assert response.json()["code"] == "not_promise_keeper"
    assert response.json()["message"] == REFUSAL
    client.force_login(owner)
    response = client.post(f"/api/v1/promises/{promise.pk}/done")
    assert response.status_code == 200 and response.json()["done_at"] is not None
