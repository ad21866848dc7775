"""SQLite's planner gets table statistics (issue 18: the home pages stay fast at a million
customers): without them it drove a manager's pipeline from the customers table."""

import pytest
from django.conf import settings
from django.db import connection

from guanxi.core.tasks import refresh_planner_statistics_now


def test_statistics_refresh_is_a_periodic_job():
    assert "guanxi.core.tasks.refresh_planner_statistics" in dict(settings.GUANXI_PERIODIC_TASKS)


@pytest.mark.django_db
def test_sqlite_gets_planner_statistics_for_the_customer_indexes(owner, customer):
    if connection.vendor != "sqlite":
        assert refresh_planner_statistics_now() is False
        return
    assert refresh_planner_statistics_now() is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert {"cust_owner_keyset", "cust_unit_keyset"} <= indexes
