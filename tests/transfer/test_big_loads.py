"""The fast paths of big imports behave exactly like the plain one: rows checked in forked
processes report the same errors; a big all-or-nothing load that rebuilds the indexes at the
end still matches existing customers, and leaves the indexes in place whether it succeeds
or is rolled back."""

import pytest
from django.db import connection

from guanxi.core import bulkload
from guanxi.customers.models import Customer
from guanxi.transfer import customer_import, runner
from guanxi.transfer.models import ImportJob
from tests.conftest import new_customer

from .helpers import csv_bytes, import_file, report_rows
from .test_messy_files import messy_rows

HEADER = ["姓名", "手机", "邮箱", "公司"]


@pytest.fixture
def forked_checking(monkeypatch):
    monkeypatch.setattr(runner, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 2)


@pytest.fixture
def big_load(monkeypatch):
    """Every all-or-nothing load counts as big; returns the tables whose indexes were
    deferred (SQLite only: PostgreSQL keeps its indexes)."""
    monkeypatch.setattr(bulkload, "DEFER_INDEXES_FROM", 1)
    deferred = []
    real = customer_import.drop_indexes

    def spy(tables, **kwargs):
        deferred.append(tables)
        return real(tables, **kwargs)

    monkeypatch.setattr(customer_import, "drop_indexes", spy)
    return deferred


def customer_indexes() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, Customer._meta.db_table))


def test_rows_checked_in_forked_processes_report_the_same_errors(admin_user, forked_checking):
    data = csv_bytes(messy_rows(), encoding="gbk")
    job = import_file(admin_user, "客户.csv", data, batch_size=2)  # lines 3 and 8 in two chunks
    assert job.state == ImportJob.State.REJECTED
    reasons = sorted((int(r[0]), r[4]) for r in report_rows(job))
    assert reasons == [
        (7, "invalid_date"),
        (7, "invalid_email"),
        (7, "invalid_phone"),
        (8, "duplicate_in_file"),
        (9, "too_long"),
        (11, "future_date"),
        (12, "required"),
    ]
    assert (job.total_rows, job.empty_rows, job.error_count) == (9, 1, 5)
    assert not Customer.objects.exists()


def test_big_load_matches_existing_customers_and_keeps_the_indexes(
    admin_user, owner, forked_checking, big_load
):
    new_customer(owner, "张三", ("13812345678",))
    by_email = new_customer(owner, "李四", ())
    Customer.objects.filter(pk=by_email.pk).update(
        email="lisi@example.cn", email_key="lisi@example.cn"
    )
    indexes_before = customer_indexes()
    rows = [HEADER, ["张三", "138 1234 5678", "", ""], ["李四", "", "LiSi@example.cn", ""]]
    rows += [[f"客户{i}", f"1390000{i:04d}", "", "华强"] for i in range(40)]
    job = import_file(admin_user, "big.csv", csv_bytes(rows), batch_size=7, defer_indexes=True)
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    assert (job.created_count, job.skipped_count) == (40, 2)
    assert Customer.objects.count() == 42
    assert customer_indexes() == indexes_before
    assert len(big_load) == (1 if connection.vendor == "sqlite" else 0)
    found = Customer.objects.filter(name_initials__startswith="kh", primary_phone="+8613900000007")
    assert found.count() == 1


def test_rejected_big_load_writes_nothing_and_keeps_the_indexes(
    admin_user, forked_checking, big_load
):
    indexes_before = customer_indexes()
    rows = [HEADER] + [[f"客户{i}", f"1390000{i:04d}", "", ""] for i in range(40)]
    rows.append(["坏行", "12345", "", ""])  # the last line is bad: earlier batches were written
    job = import_file(admin_user, "big.csv", csv_bytes(rows), batch_size=7, defer_indexes=True)
    assert job.state == ImportJob.State.REJECTED
    assert [int(r[0]) for r in report_rows(job)] == [42]
    assert not Customer.objects.exists()
    assert customer_indexes() == indexes_before
    assert len(big_load) == (1 if connection.vendor == "sqlite" else 0)


def test_big_load_keeps_the_indexes_others_save_through_by_default(admin_user, big_load):
    """Without defer_indexes (the default: colleagues may be at work) no index is dropped."""
    rows = [HEADER] + [[f"客户{i}", f"1390000{i:04d}", "", ""] for i in range(40)]
    job = import_file(admin_user, "big.csv", csv_bytes(rows), batch_size=7)
    assert job.state == ImportJob.State.SUCCEEDED and job.created_count == 40
    assert big_load == []
