"""C8, all-or-nothing in steps: once a step's transaction has committed, nothing that
follows it (its search entries, written in short transactions of their own) makes the
importer match the step again — its own rows would then count as duplicates and be
skipped. The 300,000-row import beside 20 writers lost whole steps of 10,000 that way when
the search entries' transaction hit SQLite's busy timeout on a loaded machine."""

import pytest
from django.db import OperationalError

from guanxi.customers.models import Customer
from guanxi.transfer import customer_import, runner

from .helpers import csv_bytes, import_file

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(n: int) -> bytes:
    return csv_bytes([["姓名", "手机"]] + [[f"分步{i}", f"1390000{i:04d}"] for i in range(n)])


def _locked_once(monkeypatch, times: int = 1) -> list:
    real = customer_import.index_customers
    calls: list = []

    def flaky(ids):
        calls.append(len(ids))
        if len(calls) <= times:
            raise OperationalError("database is locked")
        return real(ids)

    monkeypatch.setattr(customer_import, "index_customers", flaky)
    return calls


def test_a_lock_timeout_after_a_committed_step_skips_none_of_its_rows(admin_user, monkeypatch):
    calls = _locked_once(monkeypatch)
    job = import_file(admin_user, "steps.csv", _rows(300), batch_size=50)
    assert (job.state, job.created_count, job.skipped_count) == ("succeeded", 300, 0)
    assert Customer.objects.filter(name__startswith="分步").count() == 300
    assert len(calls) >= 2  # the locked chunk was written again, not dropped


def test_the_search_entries_of_a_step_survive_a_lock_timeout(admin_user, monkeypatch):
    from guanxi.customers.selectors import CustomerFilter, customer_queryset

    _locked_once(monkeypatch)
    import_file(admin_user, "steps.csv", _rows(120), batch_size=50)
    found = customer_queryset(viewer=admin_user, filters=CustomerFilter(q="分步7"))
    assert "分步7" in set(found.values_list("name", flat=True))


def test_a_lock_that_does_not_free_fails_the_import_and_leaves_nothing(admin_user, monkeypatch):
    """Locked through every retry of a step's search entries: the import stops and its
    hidden rows are deleted (the compensating delete), none published."""
    _locked_once(monkeypatch, times=runner.STEP_LOCK_RETRIES + 1)
    with pytest.raises(OperationalError):
        import_file(admin_user, "steps.csv", _rows(120), batch_size=50)
    assert not Customer.objects.filter(name__startswith="分步").exists()
