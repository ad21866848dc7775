"""C8 items 5 and 7: files that are not what their name says get a sentence, never a
traceback, and nothing is stored; UTF-16 without a byte-order mark is read."""

import io
import zipfile

import openpyxl
import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer
from guanxi.transfer.models import ImportJob

from .helpers import csv_bytes, import_file, upload

ROWS = [["姓名", "手机"], ["王五", "13900001111"], ["赵六", "13900002222"]]


def workbook_bytes() -> bytes:
    book = openpyxl.Workbook()
    for row in ROWS:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def refused(admin_user, name: str, data: bytes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        upload(admin_user, name, data)
    assert not ImportJob.objects.exists()
    return caught.value


def test_a_workbook_renamed_csv_is_explained(admin_user, import_dir):
    error = refused(admin_user, "客户.csv", workbook_bytes())
    assert error.errors[0].code == "workbook_named_csv"
    assert "Rename it to .xlsx" in error.errors[0].message
    assert not list(import_dir.iterdir())  # the upload is not kept


def test_a_binary_file_is_explained(admin_user):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    error = refused(admin_user, "客户.csv", png)
    assert error.errors[0].code == "binary_file"
    assert "binary data" in error.errors[0].message


def test_a_text_file_named_xlsx_is_explained(admin_user):
    error = refused(admin_user, "客户.xlsx", csv_bytes(ROWS))
    assert error.errors[0].code == "not_a_workbook"


def test_the_web_page_shows_the_sentence(client, admin_user):
    client.force_login(admin_user)
    data = io.BytesIO(workbook_bytes())
    data.name = "客户.csv"
    page = client.post("/imports/", {"file": data, "kind": "customers"})
    assert page.status_code == 200
    assert "with a .csv name" in page.content.decode()


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(admin_user, codec):
    job = import_file(admin_user, "客户.csv", csv_bytes(ROWS, encoding=codec))
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["王五", "赵六"]


def test_a_real_zip_that_is_no_workbook_named_xlsx_gets_a_sentence(admin_user):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValidationFailed) as caught:
        upload(admin_user, "客户.xlsx", buffer.getvalue())
    assert caught.value.errors[0].code == "unreadable"
    assert "Traceback" not in caught.value.errors[0].message
