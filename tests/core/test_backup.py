"""`guanxi backup` while customers are being written, and `guanxi restore` (C8)."""

import sqlite3
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from guanxi.core.backup import engine_of
from guanxi.customers.models import Customer
from tests.conftest import new_customer

pytestmark = pytest.mark.django_db(transaction=True)


class Writer(threading.Thread):
    """Creates customers (each with its phone and audit entry) until stopped."""

    def __init__(self, actor):
        super().__init__(daemon=True)
        self.actor, self.stop, self.created, self.error = actor, threading.Event(), 0, None

    def run(self):
        from django.db import connection as thread_connection

        try:
            while not self.stop.is_set():
                new_customer(self.actor, f"并发{self.created}", (f"137{self.created:08d}",))
                self.created += 1
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            thread_connection.close()


def write_while(owner, action):
    writer = Writer(owner)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while writer.created < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        result = action()
        time.sleep(0.05)
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert writer.created >= 20
    return result


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite backup API")
def test_sqlite_backup_during_writes_is_consistent_and_restores(owner, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("backup")  # the default place works
    assert list((tmp_path / "backups").glob("guanxi-*.sqlite3"))
    target = tmp_path / "during-writes.sqlite3"
    write_while(owner, lambda: call_command("backup", output=target))

    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        in_backup = copy.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
        torn = copy.execute(
            "SELECT count(*) FROM customers_customer c WHERE NOT EXISTS (SELECT 1 FROM "
            "customers_customerphone p WHERE p.customer_id = c.id) OR NOT EXISTS (SELECT 1 "
            "FROM core_auditentry a WHERE a.target_type = 'customers.customer' "
            "AND a.target_id = c.id AND a.verb = 'customer.create')"
        ).fetchone()[0]
    assert in_backup >= 20
    assert torn == 0  # every customer with its phone and its audit entry: no torn state
    assert Customer.objects.count() > in_backup  # writes went on after the snapshot

    call_command("restore", str(target), yes=True)
    assert Customer.objects.count() == in_backup
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        assert cursor.fetchone()[0] == "ok"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump")
def test_postgresql_backup_during_writes_restores(owner, tmp_path):
    import shutil

    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("PostgreSQL client tools are not installed")
    target = tmp_path / "during-writes.dump"
    write_while(owner, lambda: call_command("backup", output=target))
    assert target.stat().st_size > 0
    new_customer(owner, "备份之后", ("13600000001",))
    call_command("restore", str(target), yes=True)
    assert not Customer.objects.filter(name="备份之后").exists()
    torn = Customer.objects.filter(phones__isnull=True).count()
    assert torn == 0 and Customer.objects.count() >= 20


def test_restore_refuses_without_yes(tmp_path):
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(tmp_path / "x"))


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    if engine_of() != "sqlite":
        pytest.skip("SQLite file check")
    bogus = tmp_path / "bogus.sqlite3"
    sqlite3.connect(bogus).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(CommandError, match="not a Guanxi database"):
        call_command("restore", str(bogus), yes=True)


def test_backup_will_not_overwrite(tmp_path):
    target = tmp_path / "b.bak"
    target.write_text("keep me")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", output=target)
    assert target.read_text() == "keep me"
