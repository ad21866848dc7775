"""C8 (issue 13 item 7): a file given to `guanxi restore` that is no backup, or a backup cut
short, gets a sentence in the user's language and an exit code other than 0; nothing is
written."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from guanxi.core.backup import engine_of
from guanxi.customers.models import Customer
from tests.conftest import new_customer

pytestmark = pytest.mark.skipif(engine_of() != "sqlite", reason="the SQLite checks")


def refused(path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("restore", str(path), yes=True)
    return str(caught.value)


def a_real_backup(tmp_path: Path) -> bytes:
    target = tmp_path / "real.sqlite3"
    db = sqlite3.connect(target)
    db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("CREATE TABLE big (x TEXT)")
    db.executemany("INSERT INTO big VALUES (?)", [("x" * 200,)] * 5000)
    db.commit()
    db.close()
    return target.read_bytes()


@pytest.mark.django_db
def test_a_text_file_is_no_backup_and_nothing_is_written(tmp_path, owner):
    new_customer(owner, "留着我", ("13900001111",))
    text = tmp_path / "notes.sqlite3"
    text.write_text("这不是备份\n" * 100, encoding="utf-8")
    message = refused(text)
    assert "is not a Guanxi backup" in message and "Nothing was changed" in message
    assert list(Customer.objects.values_list("name", flat=True)) == ["留着我"]


@pytest.mark.django_db
def test_a_truncated_backup_is_refused_and_nothing_is_written(tmp_path, owner):
    new_customer(owner, "留着我", ("13900001111",))
    data = a_real_backup(tmp_path)
    cut = tmp_path / "cut.sqlite3"
    cut.write_bytes(data[: len(data) // 2])
    message = refused(cut)
    assert "damaged or incomplete" in message and "Nothing was changed" in message
    assert Customer.objects.count() == 1


def test_a_binary_file_is_refused_in_chinese(tmp_path):
    picture = tmp_path / "photo.sqlite3"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    with translation.override("zh-hans"):
        message = refused(picture)
    assert "不是 Guanxi 备份" in message and "没有做任何更改" in message


def test_the_cli_says_it_in_a_sentence_with_a_non_zero_exit_code(tmp_path):
    bogus = tmp_path / "backup.sqlite3"
    bogus.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 500)  # a PostgreSQL dump, not SQLite
    database = tmp_path / "live.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "GUANXI_VAR_DIR": str(tmp_path / "var"),
        "LANGUAGE_CODE": "zh-hans",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    guanxi = Path(sys.executable).with_name("guanxi")
    done = subprocess.run(
        [str(guanxi), "restore", str(bogus), "--yes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "不是 Guanxi 备份" in done.stderr
    assert not database.exists() or database.stat().st_size == 0
