"""Real messy files, generated here: GBK, BOM, Excel with merged headers, full-width digits,
Chinese dates, empty rows, a duplicate inside the file, a 2,000-character name."""

from datetime import date

import openpyxl
import pytest

from guanxi.core.models import AuditEntry
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.transfer.models import ImportJob, ImportKey

from .helpers import csv_bytes, import_file, report_rows, upload

HEADER = ["姓名", "手机", "邮箱", "公司", "生日"]
GOOD = [
    ["张三", "１３８１２３４５６７８", "zhangsan@example.cn", "华强电子", "1985年3月2日"],
    ["李四", "139 1234 5678", "", "美的集团", "1985/3/2"],
    ["王五", "+86 137-1234-5678", "WANGWU@Example.CN", "", "1985-03-02"],
    ["赵六", "13612345678", "", "", "19850302"],
]


def messy_rows() -> list[list[str]]:
    return [
        ["2024年客户名单", "", "", "", ""],  # line 1: a title row above the header
        HEADER,  # line 2
        GOOD[0],  # line 3
        GOOD[1],  # line 4
        ["", "", "", "", ""],  # line 5: empty
        GOOD[2],  # line 6
        ["钱七", "12345", "not-an-email", "", "1985-13-01"],  # line 7: three bad cells
        ["孙八", "13812345678", "", "", ""],  # line 8: same phone as line 3
        ["长" * 2000, "13512345678", "", "", ""],  # line 9: name far too long
        GOOD[3],  # line 10
        ["周九", "13412345678", "", "", "2999年1月1日"],  # line 11: birthday in the future
        ["", "13312345678", "", "", ""],  # line 12: no name
    ]


BAD_LINES = {7, 8, 9, 11, 12}


def test_gbk_csv_is_detected_and_every_bad_row_reported(admin_user):
    data = csv_bytes(messy_rows(), encoding="gbk")
    job = import_file(admin_user, "客户.csv", data)
    assert job.encoding == "gb18030"
    assert job.header_line == 2
    assert job.state == ImportJob.State.REJECTED
    reported = report_rows(job)
    assert {int(r[0]) for r in reported} == BAD_LINES
    reasons = {(int(r[0]), r[4]) for r in reported}
    assert {(7, "invalid_phone"), (7, "invalid_email"), (7, "invalid_date")} <= reasons
    assert (8, "duplicate_in_file") in reasons
    assert (9, "too_long") in reasons
    assert (11, "future_date") in reasons
    assert (12, "required") in reasons
    too_long = next(r for r in reported if int(r[0]) == 9)
    assert "2000" in too_long[3] and "100" in too_long[3]
    duplicate = next(r for r in reported if int(r[0]) == 8)
    assert "3" in duplicate[3]  # names the line it repeats
    assert job.error_count == len(BAD_LINES)
    assert job.empty_rows == 1
    assert job.total_rows == 9


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(admin_user):
    job = import_file(admin_user, "客户.csv", csv_bytes(messy_rows(), encoding="gbk"))
    assert job.state == ImportJob.State.REJECTED
    assert not Customer.objects.exists()
    assert not CustomerPhone.objects.exists()
    assert not ImportKey.objects.exists()
    assert not AuditEntry.objects.filter(verb__startswith="import.").exists()


def test_skip_bad_rows_imports_the_good_ones_cleaned(admin_user):
    job = import_file(admin_user, "客户.csv", csv_bytes(messy_rows(), "gbk"), mode="skip_bad")
    assert job.state == ImportJob.State.SUCCEEDED
    assert job.created_count == 4
    assert job.error_count == len(BAD_LINES)
    by_name = {c.name: c for c in Customer.objects.all()}
    assert set(by_name) == {"张三", "李四", "王五", "赵六"}
    assert by_name["张三"].primary_phone == "+8613812345678"  # full-width digits folded
    assert by_name["张三"].name_pinyin == "zhangsan" and by_name["张三"].name_initials == "zs"
    assert by_name["王五"].email == "wangwu@example.cn"
    assert by_name["王五"].email_key == "wangwu@example.cn"
    assert by_name["李四"].company_key == "美的集团"
    assert all(c.birthday == date(1985, 3, 2) for c in by_name.values())
    phone = CustomerPhone.objects.get(number="+8613812345678")
    assert (phone.national, phone.last4, phone.is_primary) == ("13812345678", "5678", True)
    assert all(c.org_unit_id == admin_user.org_unit_id for c in by_name.values())
    entry = AuditEntry.objects.get(verb="import.customers")
    assert entry.changes["created"] == 4 and entry.changes["errors"] == len(BAD_LINES)


def test_utf8_with_bom(admin_user):
    data = csv_bytes([HEADER, GOOD[0], GOOD[1]], bom=True)
    job = import_file(admin_user, "bom.csv", data)
    assert job.encoding == "utf-8-sig"
    assert job.headers[0] == "姓名"  # no BOM glued to the first header
    assert job.created_count == 2


def test_plain_utf8_and_english_headers(admin_user):
    data = csv_bytes(
        [
            ["Name", "Mobile", "E-mail", "Company", "Date of birth"],
            ["Li Lei", "13812345678", "li@example.cn", "ACME", "1990-01-02"],
        ]
    )
    job = upload(admin_user, "en.csv", data)
    assert job.encoding == "utf-8"
    assert job.mapping == {"0": "name", "1": "phone", "2": "email", "3": "company", "4": "birthday"}


def test_excel_with_merged_header_cells(admin_user, tmp_path):
    """A title merged across the sheet, 姓名 merged over two header rows, 联系方式 merged
    above 手机 / 电话, and dates as real Excel dates and as Excel serial numbers."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户名单（2024）"])
    sheet.merge_cells("A1:E1")
    sheet.append(["姓名", "联系方式", None, "公司", "生日"])
    sheet.append([None, "手机", "电话", None, None])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:C2")
    sheet.merge_cells("D2:D3")
    sheet.merge_cells("E2:E3")
    sheet.append(["张三", 13812345678, "010-62345678", "华强电子", date(1985, 3, 2)])
    sheet.append(["李四", "１３９１２３４５６７８", None, None, 31108])  # 31108 = 1985-03-02
    sheet.append([None, None, None, None, None])
    sheet.append(["王五", "13712345678", None, None, "1985年3月2日"])
    path = tmp_path / "merged.xlsx"
    book.save(path)
    job = upload(admin_user, "merged.xlsx", path.read_bytes())
    assert job.header_line == 3
    assert job.headers[0] == "姓名" and job.headers[3] == "公司" and job.headers[4] == "生日"
    assert job.mapping == {"0": "name", "1": "phone", "2": "phone", "3": "company", "4": "birthday"}
    from .helpers import run

    job = run(job, admin_user)
    assert job.state == ImportJob.State.SUCCEEDED, job.errors_preview
    assert job.created_count == 3 and job.empty_rows == 1
    zhang = Customer.objects.get(name="张三")
    assert sorted(zhang.phones.values_list("number", flat=True)) == [
        "+861062345678",
        "+8613812345678",
    ]
    assert zhang.primary_phone == "+8613812345678"
    assert set(Customer.objects.values_list("birthday", flat=True)) == {date(1985, 3, 2)}


def test_old_excel_xls(admin_user, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("客户")
    sheet.write_merge(0, 0, 0, 2, "客户名单")
    for col, text in enumerate(["姓名", "手机", "生日"]):
        sheet.write(1, col, text)
    sheet.write(2, 0, "张三")
    sheet.write(2, 1, 13812345678)
    sheet.write(2, 2, "1985/3/2")
    path = tmp_path / "old.xls"
    book.save(str(path))
    job = import_file(admin_user, "old.xls", path.read_bytes())
    assert job.state == ImportJob.State.SUCCEEDED, job.errors_preview
    assert job.header_line == 2
    customer = Customer.objects.get()
    assert (customer.primary_phone, customer.birthday) == ("+8613812345678", date(1985, 3, 2))


def test_not_a_table_is_refused_at_upload(admin_user):
    from guanxi.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        upload(admin_user, "notes.pdf", b"%PDF-1.4")
    with pytest.raises(ValidationFailed):
        upload(admin_user, "broken.xlsx", b"not a zip file")
