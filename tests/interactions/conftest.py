"""Fixtures for the interaction tests: a server clock in UTC, the business in Shanghai, a
frozen "now", and deal facts fed to the cadence rules the way the sales app will."""

import os
import time

import pytest

from guanxi.interactions import cadence
from tests.core.testing import _fast_passwords, _plain_http  # noqa: F401

from .helpers import NOW


@pytest.fixture
def utc_server(settings):
    """The application keeps Asia/Shanghai time while the process runs in UTC, as on a
    server whose clock is set to UTC (Django itself would set TZ to TIME_ZONE)."""
    settings.TIME_ZONE = "Asia/Shanghai"
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def clock(utc_server, time_machine):
    """Time stands still at NOW (Monday 2026-03-02, 10:00 in Shanghai); `clock.move_to(...)`
    moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def deal_facts():
    """`deal_facts[customer.pk] = {"open_deal": True}`: what a sales app would report."""
    by_customer: dict[int, dict] = {}

    def provider(customer, facts):
        for name, value in by_customer.get(customer.pk, {}).items():
            setattr(facts, name, value)

    cadence.register_fact_provider(provider)
    yield by_customer
    cadence.unregister_fact_provider(provider)
