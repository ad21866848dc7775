"""C8 items 4 and 5, with generated files: no silent loss (a wrong xlsx dimension, hidden
sheets, duplicate columns, a huge cell, cells that cannot be read) and more of what people
have (traditional-Chinese and English headers, Big5, UTF-16 without a mark, `;` files with
commas inside fields, phones written as 19900800003.0)."""

import io
import re
import zipfile

import openpyxl
import pytest
from django.urls import reverse

from guanxi.customers.models import Customer, CustomerPhone
from guanxi.transfer.models import ImportJob
from guanxi.transfer.services import import_reread

from .helpers import csv_bytes, import_file, report_rows, run, upload


def book_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def names() -> set[str]:
    return set(Customer.objects.values_list("name", flat=True))


# ---- item 4 ----------------------------------------------------------------------------------


def with_dimension(data: bytes, dimension: str) -> bytes:
    """The workbook with the dimension its sheet states rewritten (as odd exporters write)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), content
                )
            target.writestr(item, content)
    return out.getvalue()


def test_an_xlsx_whose_stated_dimension_is_wrong_is_read_by_its_real_cells(admin_user):
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机", "公司"])
    for n in range(1, 6):
        book.active.append([f"客户{n}", f"1390000000{n}", f"公司{n}"])
    data = with_dimension(book_bytes(book), "A1:B2")  # says: two columns, two rows
    job = import_file(admin_user, "客户.xlsx", data)
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    assert job.headers == ["姓名", "手机", "公司"]
    assert job.created_count == 5
    assert set(Customer.objects.values_list("company", flat=True)) == {
        f"公司{n}" for n in range(1, 6)
    }


def hidden_first_book() -> bytes:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["这一页是说明，不是客户"])
    notes.sheet_state = "hidden"
    customers = book.create_sheet("客户")
    customers.append(["姓名", "手机"])
    customers.append(["王五", "13900001111"])
    other = book.create_sheet("供应商")
    other.append(["姓名", "手机"])
    other.append(["供应商甲", "13900003333"])
    book.active = 1
    return book_bytes(book)


def test_hidden_sheets_are_skipped_and_the_sheet_read_is_named_with_a_chooser(
    admin_client, admin_user
):
    job = upload(admin_user, "客户.xlsx", hidden_first_book())
    assert job.sheet == "客户"
    assert job.sheets == ["客户", "供应商"]  # the hidden one is not offered
    page = admin_client.get(reverse("transfer:mapping", args=[job.pk])).content.decode()
    assert "Sheet read: “客户”." in page
    assert '<option value="供应商"' in page and "说明" not in page
    # The chooser reads the other sheet, and the import takes its rows.
    response = admin_client.post(
        reverse("transfer:mapping", args=[job.pk]), {"reread": "1", "sheet": "供应商"}
    )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.sheet == "供应商" and job.preview == [["供应商甲", "13900003333"]]
    job = run(job, admin_user)
    assert job.state == ImportJob.State.SUCCEEDED
    assert names() == {"供应商甲"}


def test_a_sheet_that_is_not_offered_is_refused(admin_user):
    from guanxi.core.errors import ValidationFailed

    job = upload(admin_user, "客户.xlsx", hidden_first_book())
    with pytest.raises(ValidationFailed) as caught:
        import_reread(actor=admin_user, job_id=job.pk, sheet="说明")
    assert caught.value.errors[0].code == "invalid_choice"


def test_duplicate_columns_are_warned_about_on_the_mapping_page(admin_client, admin_user):
    data = csv_bytes(
        [["姓名", "手机", "公司", "手机"], ["王五", "13900001111", "甲", "13900002222"]]
    )
    job = upload(admin_user, "客户.csv", data)
    page = admin_client.get(reverse("transfer:mapping", args=[job.pk])).content.decode()
    assert "several columns named “手机” (columns 2, 4)" in page


@pytest.mark.parametrize("cell_size", [200_000])
def test_a_cell_larger_than_the_field_limit_is_one_bad_row_in_skip_mode(admin_user, cell_size):
    rows = [
        ["姓名", "手机", "备注"],
        ["王五", "13900001111", "好"],
        ["赵六", "13900002222", "长" * cell_size],  # line 3: larger than csv's field limit
        ["孙七", "13900003333", ""],
    ]
    job = import_file(admin_user, "客户.csv", csv_bytes(rows), mode="skip_bad")
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    assert names() == {"王五", "孙七"}
    reported = report_rows(job)
    assert [(r[0], r[4]) for r in reported] == [("3", "too_long")]


def test_a_csv_row_that_ends_before_a_mapped_column_is_reported_not_stored_without_it(admin_user):
    data = (
        "姓名,公司,手机\r\n王五,甲,13900001111\r\n"
        '赵六,"乙\r\n13900002222\r\n'  # an unclosed quote swallows the next line
        "孙七,丙\r\n"  # line 5: the phone column is missing
    ).encode()
    job = import_file(admin_user, "客户.csv", data, mode="skip_bad")
    assert "孙七" not in names() and "王五" in names()
    reported = {(r[0], r[4]) for r in report_rows(job)}
    assert ("5", "missing_cell") in reported or ("3", "missing_cell") in reported
    assert all(code == "missing_cell" for _line, code in reported)


def test_a_spreadsheet_error_cell_reports_the_row(admin_user):
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机", "公司"])
    book.active.append(["王五", "13900001111", "甲"])
    book.active.append(["赵六", "13900002222", "#REF!"])
    job = import_file(admin_user, "客户.xlsx", book_bytes(book), mode="skip_bad")
    assert names() == {"王五"}
    [row] = report_rows(job)
    assert row[0] == "3" and row[4] == "unreadable_cell"
    assert row[2] == "#REF!" and "#REF!" in row[3]


def test_bytes_that_are_not_text_in_the_encoding_report_the_row(admin_user):
    good = "姓名,手机\r\n陳大文,13900001111\r\n林美玲,13900002222\r\n".encode("cp950")
    data = good + "黃小華,".encode("cp950") + b"\xff\xfe13900003333\r\n"
    job = upload(admin_user, "客户.csv", data)
    if job.encoding != "cp950":
        job = import_reread(actor=admin_user, job_id=job.pk, encoding="cp950")
    with_region = run(job, admin_user, mode="skip_bad")
    assert "陳大文" in names() and "黃小華" not in names()
    [row] = report_rows(with_region)
    assert row[0] == "4" and row[4] == "unreadable_cell"


# ---- item 5 ----------------------------------------------------------------------------------


def test_traditional_chinese_headers_are_recognised(admin_user):
    data = csv_bytes(
        [
            ["姓名", "手機", "電話", "電郵", "公司名稱"],
            ["陳大文", "13900001111", "13900002222", "chan@example.cn", "大文貿易"],
        ]
    )
    job = upload(admin_user, "客户.csv", data)
    assert job.mapping == {"0": "name", "1": "phone", "2": "phone", "3": "email", "4": "company"}
    run(job, admin_user)
    customer = Customer.objects.get()
    assert (customer.email, customer.company) == ("chan@example.cn", "大文貿易")
    assert customer.phones.count() == 2


def test_more_english_headers_are_recognised(admin_user):
    headers = ["Full Name", "Mobile Number", "Email Address", "Company Name", "Date of Birth"]
    job = upload(
        admin_user,
        "customers.csv",
        csv_bytes([headers, ["Li Wei", "13900001111", "li@example.com", "Acme", "1990-05-04"]]),
    )
    assert job.mapping == {"0": "name", "1": "phone", "2": "email", "3": "company", "4": "birthday"}
    run(job, admin_user)
    customer = Customer.objects.get()
    assert (customer.name, customer.email, str(customer.birthday)) == (
        "Li Wei",
        "li@example.com",
        "1990-05-04",
    )


BIG5_ROWS = [
    ["姓名", "手機", "公司名稱", "地址"],
    ["陳大文", "13900001111", "台灣積體電路製造股份有限公司", "臺北市信義區松高路"],
    ["林美玲", "13900002222", "鴻海精密工業", "新北市土城區自由街"],
    ["黃國華", "13900003333", "聯發科技", "新竹科學園區篤行一路"],
]


def test_big5_is_detected(admin_user):
    job = import_file(admin_user, "客户.csv", csv_bytes(BIG5_ROWS, encoding="big5"))
    assert job.encoding == "cp950"
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    assert names() == {"陳大文", "林美玲", "黃國華"}
    assert Customer.objects.filter(company="鴻海精密工業").exists()


def test_utf16_without_a_mark_holding_mostly_chinese_is_detected(admin_user):
    rows = [["姓名", "公司"], ["陳大文", "台灣積體電路製造"], ["林美玲", "鴻海精密工業"]]
    job = import_file(admin_user, "客户.csv", csv_bytes(rows, encoding="utf-16-le"))
    assert job.encoding == "utf-16-le"
    assert names() == {"陳大文", "林美玲"}


def test_an_unsure_encoding_offers_the_chooser_and_the_choice_is_read(admin_client, admin_user):
    # Four bytes that GB18030 and Big5 both read, as different characters: nobody can tell.
    data = b"\xb1\xa6\xa1\xa1," + b"13900001111\r\n" + b"\xb1\xa6," + b"13900002222\r\n"
    data = "姓名,手机\r\n".encode("gbk") + data
    job = upload(admin_user, "客户.csv", data)
    job.encoding_sure = False  # whatever the detector said about these few bytes
    job.save(update_fields=["encoding_sure"])
    page = admin_client.get(reverse("transfer:mapping", args=[job.pk])).content.decode()
    assert "encoding could not be recognised for certain" in page and 'value="cp950"' in page
    admin_client.post(
        reverse("transfer:mapping", args=[job.pk]), {"reread": "1", "encoding": "cp950"}
    )
    job.refresh_from_db()
    assert (job.encoding, job.encoding_sure) == ("cp950", True)
    assert job.preview[0][0] == b"\xb1\xa6\xa1\xa1".decode("cp950")


def test_semicolon_file_with_commas_inside_fields(admin_user):
    data = (
        "姓名;手机;地址;备注\r\n"
        '王五;13900001111;"北京市朝阳区, 建国路 88 号";"老客户, VIP, 喜欢周末来"\r\n'
        '赵六;13900002222;"上海市, 浦东新区";"介绍人: 王五, 2024"\r\n'
    ).encode()
    job = import_file(admin_user, "客户.csv", data)
    assert job.delimiter == ";"
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    wang = Customer.objects.get(name="王五")
    assert (wang.address, wang.notes) == ("北京市朝阳区, 建国路 88 号", "老客户, VIP, 喜欢周末来")


def test_phones_written_as_decimals_are_read(admin_user):
    data = csv_bytes([["姓名", "手机"], ["王五", "19900800003.0"], ["赵六", "13900002222.0"]])
    job = import_file(admin_user, "客户.csv", data)
    assert job.state == ImportJob.State.SUCCEEDED, job.message
    assert set(CustomerPhone.objects.values_list("number", flat=True)) == {
        "+8619900800003",
        "+8613900002222",
    }
