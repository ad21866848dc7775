"""Churn early warning (流失预警, C6): the fixed threshold (113 days, configurable) while a
customer has fewer than three purchases, their own cycle after that (median gap + k ×
spread), or an order far below their usual amount; a watch list with the reason in words;
alerts to the owner and the service desk; dismiss or snooze with a reason; a new purchase
resolves the warning; webhook `churn.warned`."""

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.core.errors import ValidationFailed
from guanxi.core.models import WebhookDelivery
from guanxi.core.webhooks import webhook_create
from guanxi.insights import services
from guanxi.insights.engine import recompute_all
from guanxi.insights.models import ChurnWarning, InsightsSettings
from guanxi.notifications.models import Notification

from .conftest import history, purchase


def scan():
    recompute_all()
    return services.churn_scan()


def warning_of(customer):
    return ChurnWarning.objects.filter(customer_id=customer.pk).first()


def test_fixed_threshold_warns_after_113_days_with_fewer_than_three_purchases(
    owner, finance, customer, goods
):
    history(owner, finance, customer, goods, [300, 120])
    assert scan()["warned"] == 1
    warning = warning_of(customer)
    assert warning.rule == "fixed"
    assert warning.reason() == "120 days without a purchase (warning after 113)."


def test_fixed_threshold_does_not_warn_before_113_days(owner, finance, customer, goods):
    history(owner, finance, customer, goods, [300, 100])
    assert scan()["warned"] == 0


def test_fixed_threshold_is_configurable(owner, finance, customer, goods):
    InsightsSettings.objects.update_or_create(
        pk=InsightsSettings.current().pk, defaults={"churn_days": 90}
    )
    history(owner, finance, customer, goods, [100])
    assert scan()["warned"] == 1


def test_adaptive_a_customer_with_a_30_day_cycle_is_warned_at_about_60_days(
    owner, finance, customer, goods
):
    history(owner, finance, customer, goods, [62 + 30 * n for n in range(6)])
    assert scan()["warned"] == 1
    warning = warning_of(customer)
    assert warning.rule == "adaptive"
    assert warning.reason() == "Usually buys every 30 days; 62 days since the last order."


def test_adaptive_a_customer_with_a_30_day_cycle_is_not_warned_at_55_days(
    owner, finance, customer, goods
):
    history(owner, finance, customer, goods, [55 + 30 * n for n in range(6)])
    assert scan()["warned"] == 0


def test_adaptive_a_customer_with_a_200_day_cycle_is_not_warned_at_113_days(
    owner, finance, customer, goods
):
    history(owner, finance, customer, goods, [113 + 200 * n for n in range(4)])
    assert scan()["warned"] == 0


def test_a_sharp_drop_in_the_amount_warns(owner, finance, customer, goods):
    history(owner, finance, customer, goods, [150, 120, 90, 60], amount="2000.00")
    purchase(owner, finance, customer, goods, amount="300.00", days_ago=30)
    scan()
    warning = warning_of(customer)
    assert warning.rule == "drop"
    assert warning.reason() == ("Usually spends ¥2,000.00 per order; the last order was ¥300.00.")


def test_the_owner_and_the_service_desk_are_alerted(
    owner, finance, customer, goods, service_agent, outsider
):
    history(owner, finance, customer, goods, [130])
    scan()
    notified = set(
        Notification.objects.filter(kind="churn_warning").values_list("user_id", flat=True)
    )
    assert notified == {owner.pk, service_agent.pk}


def test_the_scan_is_idempotent(owner, finance, customer, goods):
    history(owner, finance, customer, goods, [130])
    assert scan()["warned"] == 1
    assert scan()["warned"] == 0
    assert ChurnWarning.objects.count() == 1
    assert Notification.objects.filter(kind="churn_warning", user=owner).count() == 1


def test_a_new_purchase_resolves_the_warning(owner, finance, customer, goods):
    history(owner, finance, customer, goods, [130])
    scan()
    purchase(owner, finance, customer, goods)
    assert warning_of(customer).status == "resolved"
    assert not Notification.objects.filter(kind="churn_warning").exists()


def test_dismiss_with_a_reason_keeps_them_off_the_list_until_they_buy_again(
    owner, finance, customer, goods
):
    history(owner, finance, customer, goods, [130])
    scan()
    warning = services.churn_dismiss(
        actor=owner, warning_id=warning_of(customer).pk, reason="搬去外地，改由亲戚代购"
    )
    assert (warning.status, warning.note) == ("dismissed", "搬去外地，改由亲戚代购")
    assert scan()["warned"] == 0


def test_dismiss_without_a_reason_is_refused(owner, finance, customer, goods):
    history(owner, finance, customer, goods, [130])
    scan()
    with pytest.raises(ValidationFailed) as caught:
        services.churn_dismiss(actor=owner, warning_id=warning_of(customer).pk, reason=" ")
    assert caught.value.field == "reason"
    assert warning_of(customer).status == "open"


def test_snooze_puts_them_back_on_the_list_when_it_ends(owner, finance, customer, goods):
    history(owner, finance, customer, goods, [130])
    scan()
    warning = services.churn_snooze(
        actor=owner, warning_id=warning_of(customer).pk, days=14, reason="出国两周"
    )
    assert warning.status == "snoozed"
    assert services.churn_scan()["woke"] == 0
    assert services.churn_scan(now=timezone.now() + timedelta(days=15))["woke"] == 1
    assert warning_of(customer).status == "open"


@pytest.mark.parametrize("days", [0, 400, -3])
def test_snooze_for_an_impossible_time_is_refused(owner, finance, customer, goods, days):
    history(owner, finance, customer, goods, [130])
    scan()
    with pytest.raises(ValidationFailed) as caught:
        services.churn_snooze(
            actor=owner, warning_id=warning_of(customer).pk, days=days, reason="x"
        )
    assert caught.value.code == "out_of_range"


def test_churn_warned_webhook(admin_user, owner, finance, customer, goods):
    webhook_create(
        actor=admin_user, name="客服系统", url="http://127.0.0.1:9/", events=["churn.warned"]
    )
    history(owner, finance, customer, goods, [130])
    scan()
    payload = WebhookDelivery.objects.get(event="churn.warned").payload
    assert (payload["customer_id"], payload["rule"], payload["days_since"]) == (
        customer.pk,
        "fixed",
        130,
    )


def test_the_watch_list_shows_the_reason_in_words(client, owner, finance, customer, goods):
    history(owner, finance, customer, goods, [130])
    scan()
    client.force_login(owner)
    page = client.get("/insights/churn/").content.decode()
    assert "张三" in page and "130 days without a purchase (warning after 113)." in page


def test_an_outsider_does_not_see_the_warning(client, outsider, owner, finance, customer, goods):
    history(owner, finance, customer, goods, [130])
    scan()
    client.force_login(outsider)
    assert "张三" not in client.get("/insights/churn/").content.decode()
    warning = warning_of(customer)
    response = client.post(
        f"/insights/churn/{warning.pk}/decide/", {"action": "dismiss", "reason": "x"}
    )
    assert response.status_code == 404
    assert warning_of(customer).status == "open"
