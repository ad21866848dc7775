"""Landlines and extensions in imports and exports (issue 13, item 6): the phone column's
extensions are parsed, two people on one switchboard are two customers, and the export
writes the number as people dial it, which the importer reads back."""

import csv
import io

from django.utils import translation

from guanxi.customers.models import Customer, CustomerPhone
from guanxi.transfer.models import ImportJob
from tests.conftest import new_customer

from .helpers import csv_bytes, import_file, report_rows

HEADER = ["姓名", "电话", "公司"]


def test_two_people_on_one_switchboard_are_imported_as_two_customers(admin_user):
    rows = [
        HEADER,
        ["前台张", "010-8888 6666 转 801", "华强电子"],
        ["财务李", "010-88886666-802", "华强电子"],
        ["销售王", "010-8888 6666 ext. 803", "华强电子"],
        ["总机", "010-8888 6666", "华强电子"],
        ["客服", "400-810-8888", "华强电子"],
        ["深圳办", "0755-2345 6789 分机 12", "华强电子"],
    ]
    job = import_file(admin_user, "总机.csv", csv_bytes(rows, encoding="gbk"))
    assert job.state == ImportJob.State.SUCCEEDED, job.errors_preview
    assert job.created_count == 6
    phones = dict(CustomerPhone.objects.values_list("customer__name", "number"))
    assert phones == {
        "前台张": "+861088886666;ext=801",
        "财务李": "+861088886666;ext=802",
        "销售王": "+861088886666;ext=803",
        "总机": "+861088886666",
        "客服": "+864008108888",
        "深圳办": "+8675523456789;ext=12",
    }
    assert CustomerPhone.objects.get(customer__name="财务李").extension == "802"
    assert CustomerPhone.objects.get(customer__name="总机").extension == ""


def test_the_same_number_and_extension_twice_in_a_file_is_a_duplicate(admin_user):
    rows = [HEADER, ["前台张", "010-8888 6666 转 801", ""], ["张前台", "01088886666x801", ""]]
    job = import_file(admin_user, "重复.csv", csv_bytes(rows), mode="skip_bad")
    assert (job.created_count, Customer.objects.count()) == (1, 1)
    assert [(int(r[0]), r[4]) for r in report_rows(job)] == [(3, "duplicate_in_file")]


def test_an_existing_customers_number_and_extension_matches_on_import(admin_user, owner):
    new_customer(owner, "前台张", ("010-8888 6666 转 801",))
    rows = [HEADER, ["前台张", "01088886666转801", ""], ["财务李", "01088886666转802", ""]]
    job = import_file(admin_user, "再来.csv", csv_bytes(rows), mode="skip_bad")
    assert job.created_count == 1 and job.skipped_count == 1
    assert Customer.objects.count() == 2


def export_rows(client) -> list[dict]:
    data = b"".join(client.get("/customers/export/").streaming_content)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_writes_the_extension_as_dialled_and_imports_back(client, admin_user, owner):
    new_customer(owner, "前台张", ("010-8888 6666 转 801",))
    new_customer(owner, "客服", ("400-810-8888",))
    client.force_login(admin_user)
    rows = export_rows(client)
    assert {r["Name"]: r["Phone"] for r in rows} == {
        "前台张": "010-88886666 ext. 801",
        "客服": "4008108888",
    }
    data = b"".join(client.get("/customers/export/").streaming_content)
    CustomerPhone.objects.all().delete()
    Customer.objects.all().delete()
    job = import_file(admin_user, "export.csv", data)
    assert job.created_count == 2, job.errors_preview
    assert sorted(CustomerPhone.objects.values_list("number", flat=True)) == [
        "+861088886666;ext=801",
        "+864008108888",
    ]


def test_chinese_export_writes_zhuan_and_imports_back(client, admin_user, owner, settings):
    new_customer(owner, "前台张", ("010-8888 6666 转 801",))
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(admin_user)
    with translation.override("zh-hans"):
        data = b"".join(
            client.get("/customers/export/", HTTP_ACCEPT_LANGUAGE="zh-hans").streaming_content
        )
    assert "010-88886666 转 801" in data.decode("utf-8-sig")
    new_customer(owner, "财务李", ("010-8888 6666 转 802",))
    job = import_file(admin_user, "导出.csv", data)
    assert (job.created_count, job.skipped_count) == (0, 1), job.errors_preview
