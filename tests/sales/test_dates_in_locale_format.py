"""SPEC (money and numbers: dates in the locale's format): a date reads as the reader's
language writes it — 2026年12月3日 in a Chinese sentence or heading and 2026-12-03 in a Chinese
table cell; 3 December 2026 and 3 Dec 2026 in English — on the customer page, the follow-up
list and a deal page. Form fields keep ISO values (2026-12-03), which browsers require."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.sales.models import Instalment

# language: (birthday 1985-03-02 on the customer page, follow-up 2031-07-09 15:30 there,
#            instalment due 2027-01-15 on the deal page)
EXPECTED = {
    "zh-hans": ("1985年3月2日", "2031-07-09 15:30", "2027-01-15"),
    "en": ("2 March 1985", "9 Jul 2031, 15:30", "15 Jan 2027"),
}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _get(client, url: str, language: str) -> str:
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_customer_page_shows_dates_in_the_readers_format(
    client, owner, customer, settings, language
):
    settings.LANGUAGE_CODE = language
    at = timezone.make_aware(datetime(2031, 7, 9, 15, 30))
    Customer.objects.filter(pk=customer.pk).update(birthday=date(1985, 3, 2), next_follow_up_at=at)
    client.force_login(owner)
    html = _get(client, f"/customers/{customer.pk}/", language)
    birthday, follow_up, _ = EXPECTED[language]
    assert birthday in html
    assert follow_up in html
    if language == "en":
        assert ">1985-03-02<" not in html and ">2031-07-09 15:30" not in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_follow_up_list_shows_the_time_as_the_reader_writes_it(
    client, owner, customer, settings, language
):
    settings.LANGUAGE_CODE = language
    today = timezone.localdate()
    at = timezone.make_aware(datetime.combine(today, time(23, 50)))
    Customer.objects.filter(pk=customer.pk).update(next_follow_up_at=at)
    client.force_login(owner)
    html = _get(client, "/my-day/", language)
    row = html[html.index(f'id="follow-up-{customer.pk}"') :][:1500]
    if language == "zh-hans":
        assert f"{today.month}月{today.day}日 23:50" in row
    else:
        assert f"{today.day} {MONTHS[today.month - 1]}, 23:50" in row
    assert f"{today:%m-%d} 23:50" not in row


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_deal_page_shows_instalment_dates_in_the_readers_format(
    client, owner, deal, settings, language
):
    settings.LANGUAGE_CODE = language
    Instalment.objects.create(
        deal=deal, label="首付", due_date=date(2027, 1, 15), amount=Decimal("300000")
    )
    client.force_login(owner)
    html = _get(client, f"/sales/deals/{deal.pk}/", language)
    assert f"<td>{EXPECTED[language][2]}</td>" in html
    if language == "en":
        assert "2027-01-15" not in html


def test_a_date_field_keeps_its_iso_value_in_english(client, owner, customer, settings):
    """Only displayed text follows the language: <input type=date> needs 1985-03-02."""
    settings.LANGUAGE_CODE = "en"
    Customer.objects.filter(pk=customer.pk).update(birthday=date(1985, 3, 2))
    client.force_login(owner)
    html = _get(client, f"/customers/{customer.pk}/edit/", "en")
    assert 'value="1985-03-02"' in html
