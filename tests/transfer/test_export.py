"""Export of the customer list: exactly the list's rows, masked as the list masks them."""

import csv
import io

import openpyxl

from guanxi.customers.services import customer_share
from tests.conftest import new_customer


def csv_of(response) -> list[dict]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_salesperson_export_masks_a_teammates_shared_customer(client, owner, teammate, customer):
    mine = new_customer(teammate, "李四", ("13912345678",), id_number="110101199001019999")
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    client.force_login(teammate)
    rows = {row["Name"]: row for row in csv_of(client.get("/customers/export/?format=csv"))}
    assert set(rows) == {"张三", "李四"}
    assert rows["张三"]["Phone"] == "138****5678"  # shared with me, not mine: masked
    assert rows["张三"]["ID number"] == "110101********1234"
    assert rows["张三"]["Annual income (CNY)"] == "****"
    assert rows["李四"]["Phone"] == "13912345678"  # my own: in clear
    assert rows["李四"]["ID number"] == "110101199001019999"
    assert str(mine.pk) == rows["李四"]["ID"]


def test_export_respects_visibility_and_filters(client, owner, outsider, customer):
    new_customer(outsider, "王五", ("13900001111",))
    new_customer(owner, "赵六", ("13700001111",), city="上海")
    client.force_login(owner)
    names = {row["Name"] for row in csv_of(client.get("/customers/export/"))}
    assert names == {"张三", "赵六"}  # never another branch's customer
    names = {row["Name"] for row in csv_of(client.get("/customers/export/?q=zs"))}
    assert names == {"张三"}


def test_manager_export_is_unmasked(client, manager, customer):
    client.force_login(manager)
    rows = csv_of(client.get("/customers/export/"))
    assert rows[0]["Phone"] == "13812345678"
    assert rows[0]["Annual income (CNY)"] == "350000.00"


def test_excel_export(client, owner, teammate, customer):
    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    client.force_login(teammate)
    response = client.get("/customers/export/?format=xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("ID", "Name", "Phone")
    assert rows[1][1:3] == ("张三", "138****5678")


def test_gbk_csv_export(client, owner, customer):
    client.force_login(owner)
    response = client.get("/customers/export/?encoding=gbk")
    body = b"".join(response.streaming_content)
    assert "张三".encode("gb18030") in body
    assert not body.startswith(b"\xef\xbb\xbf")


def test_export_is_streamed(client, owner, customer):
    client.force_login(owner)
    response = client.get("/customers/export/")
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")


def test_api_export_with_a_token(client, owner, teammate, customer):
    from guanxi.core.services import token_create

    customer_share(actor=owner, customer_id=customer.pk, user=teammate)
    _token, raw = token_create(actor=teammate, name="script")
    response = client.get(
        "/api/v1/customers/export?format=csv", headers={"Authorization": f"Bearer {raw}"}
    )
    rows = csv_of(response)
    assert [(r["Name"], r["Phone"]) for r in rows] == [("张三", "138****5678")]
    assert client.get("/api/v1/customers/export").status_code == 401


def test_export_round_trips_through_import(client, admin_user, owner, customer):
    """What the export writes, the importer reads back: headers recognised, rows matched."""
    from guanxi.customers.models import Customer

    from .helpers import import_file

    client.force_login(admin_user)
    data = b"".join(client.get("/customers/export/").streaming_content)
    job = import_file(admin_user, "export.csv", data)
    assert job.mapping["1"] == "name" and job.mapping["2"] == "phone"
    assert (job.created_count, job.skipped_count) == (0, 1), job.errors_preview
    assert Customer.objects.count() == 1


FORMULAS = ["=1+2", "+86 evil", "-2+3", "@SUM(A1)", '=HYPERLINK("x")']


def test_csv_cells_starting_with_tab_or_carriage_return_are_neutralised_too():
    from guanxi.transfer.export import csv_chunks

    body = b"".join(csv_chunks(iter([[1, "\tTab", "\rCR", "a-b", -5]]))).decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row[:5] == ["1", "'\tTab", "'\rCR", "a-b", "-5"]


def test_csv_export_neutralises_formulas(client, owner):
    """C8, OWASP CSV injection: a text cell that starts like a formula gets an apostrophe."""
    for n, name in enumerate(FORMULAS):
        new_customer(owner, name, (f"1381234{n:04d}",), company="=cmd|'/c calc'!A1")
    new_customer(owner, "普通-名字", ("13800001234",))
    client.force_login(owner)
    rows = csv_of(client.get("/customers/export/"))
    names = {row["Name"] for row in rows}
    assert names == {"'" + name for name in FORMULAS} | {"普通-名字"}
    assert {row["Company"] for row in rows} == {"'=cmd|'/c calc'!A1", ""}


def test_neutralised_export_imports_back_as_it_was(client, admin_user, owner):
    from guanxi.customers.models import Customer

    from .helpers import import_file

    new_customer(owner, "=1+2", ("13812340000",))
    client.force_login(admin_user)
    data = b"".join(client.get("/customers/export/").streaming_content)
    Customer.objects.all().delete()
    job = import_file(admin_user, "export.csv", data, owner_mode="fixed", owner_id=owner.pk)
    assert job.created_count == 1, job.errors_preview
    assert Customer.objects.get().name == "=1+2"


def test_excel_export_writes_formulas_as_text(client, owner):
    """In Excel every text is a string cell: read back with openpyxl, no cell is a formula."""
    for n, name in enumerate(FORMULAS):
        new_customer(owner, name, (f"1381234{n:04d}",), company="=1+1")
    client.force_login(owner)
    response = client.get("/customers/export/?format=xlsx")
    assert response.streaming
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    names = {row[1] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert names == set(FORMULAS)
    companies = {row[4] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert companies == {"=1+1"}
    # The ID column stays a number.
    assert all(
        isinstance(row[0], int) for row in book.active.iter_rows(min_row=2, values_only=True)
    )


def test_excel_export_sends_its_first_bytes_before_reading_the_rows():
    """Streamed: the response starts before the rows are read, and memory holds a few
    hundred rows at a time, whatever the count."""
    from guanxi.transfer.export import xlsx_chunks

    read = []

    def rows():
        for n in range(3000):
            read.append(n)
            yield [n, f"名字{n}", "", "a@b.cn"]

    chunks = xlsx_chunks(rows())
    assert next(chunks) == b"" and read == []
    first = next(chunks)
    assert first.startswith(b"PK") and len(read) < 1000
    data = first + b"".join(chunks)
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    values = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(values) == 3001 and values[3000][:2] == (2999, "名字2999")


def test_excel_export_drops_characters_xml_cannot_hold():
    from guanxi.transfer.export import xlsx_chunks

    data = b"".join(xlsx_chunks(iter([[1, "a\x00b\x1fc<&>"]])))
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.active["B2"].value == "abc<&>"
