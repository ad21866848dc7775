"""The import API (issue 13, item 8): upload, map, start, follow progress and download the
error report through /api/v1/imports, with the web flow's permissions and checks."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.core.services import token_create
from guanxi.customers.models import Customer
from guanxi.transfer.jobs import import_run
from guanxi.transfer.models import ImportJob

from .helpers import csv_bytes

API = "/api/v1/imports"
ROWS = [
    ["姓名", "手机", "生日"],
    ["张三", "13812345678", "1985年3月2日"],
    ["李四", "bad", ""],
    ["王五", "13912345678", ""],
]


def bearer(user) -> dict:
    _token, raw = token_create(actor=user, name="script")
    return {"Authorization": f"Bearer {raw}"}


def upload(client, headers, name: str, data: bytes, **form):
    return client.post(API, {"file": SimpleUploadedFile(name, data), **form}, headers=headers)


def start(client, headers, job_id: int, mapping: dict, **options):
    return client.post(
        f"{API}/{job_id}/start",
        {"mapping": mapping, "options": options},
        content_type="application/json",
        headers=headers,
    )


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_whole_import_flow_through_the_api_with_a_gbk_csv(client, manager, owner):
    headers = bearer(manager)
    response = upload(client, headers, "客户.csv", csv_bytes(ROWS, encoding="gbk"))
    assert response.status_code == 201, response.content
    job = response.json()
    assert (job["state"], job["encoding"], job["headers"]) == ("uploaded", "gb18030", ROWS[0])
    assert job["mapping"] == {"0": "name", "1": "phone", "2": "birthday"}
    assert ["李四", "bad", ""] in job["preview"]
    assert {"key": "phone", "label": "Phone", "multiple": True} in job["targets"]
    started = start(
        client,
        headers,
        job["id"],
        job["mapping"],
        mode="skip_bad",
        owner_mode="fixed",
        owner_id=owner.pk,
    )
    assert started.status_code == 202, started.content
    assert started.json()["state"] == "queued" and started.json()["polling"] is True
    import_run(job_id=job["id"])  # what the worker does
    done = client.get(f"{API}/{job['id']}", headers=headers).json()
    assert (done["state"], done["percent"], done["polling"]) == ("succeeded", 100, False)
    assert (done["counts"]["created"], done["counts"]["errors"]) == (2, 1)
    assert done["error_report_url"] == f"{API}/{job['id']}/errors.csv"
    report = client.get(done["error_report_url"], headers=headers)
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert [(row[0], row[2], row[4]) for row in lines[1:]] == [("3", "bad", "invalid_phone")]
    assert set(Customer.objects.values_list("name", "owner")) == {
        ("张三", owner.pk),
        ("王五", owner.pk),
    }
    listed = client.get(API, headers=headers).json()["items"]
    assert [item["id"] for item in listed] == [job["id"]]


def test_the_whole_import_flow_through_the_api_with_a_workbook(client, manager):
    headers = bearer(manager)
    job = upload(client, headers, "客户.xlsx", xlsx_bytes(ROWS[:2] + ROWS[3:])).json()
    assert (job["file_format"], job["sheet"], job["sheets"]) == ("xlsx", "客户", ["客户"])
    assert job["encodings"] == []
    assert start(client, headers, job["id"], job["mapping"]).status_code == 202
    import_run(job_id=job["id"])
    done = client.get(f"{API}/{job['id']}", headers=headers).json()
    assert (done["state"], done["counts"]["created"], done["has_error_report"]) == (
        "succeeded",
        2,
        False,
    )
    missing = client.get(f"{API}/{job['id']}/errors.csv", headers=headers)
    assert (missing.status_code, missing.json()["code"]) == (404, "no_report")
    again = start(client, headers, job["id"], job["mapping"])
    assert (again.status_code, again.json()["code"]) == (422, "already_started")


def test_reread_with_another_encoding_through_the_api(client, manager):
    headers = bearer(manager)
    job = upload(client, headers, "客户.csv", csv_bytes(ROWS, encoding="gbk")).json()
    response = client.post(
        f"{API}/{job['id']}/reread",
        {"encoding": "gb18030"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    assert (response.json()["encoding"], response.json()["encoding_sure"]) == ("gb18030", True)
    assert response.json()["headers"] == ROWS[0]
    bad = client.post(
        f"{API}/{job['id']}/reread",
        {"encoding": "ebcdic"},
        content_type="application/json",
        headers=headers,
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        422,
        "invalid_choice",
        "encoding",
    )


def test_a_role_without_import_permission_gets_403(client, owner, manager):
    job = ImportJob.objects.create(created_by=manager, file_name="x.csv", file_path="x.csv")
    headers = bearer(owner)  # a salesperson
    response = upload(client, headers, "客户.csv", csv_bytes(ROWS))
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    for url in (API, f"{API}/{job.pk}", f"{API}/{job.pk}/errors.csv"):
        assert client.get(url, headers=headers).status_code == 403
    assert start(client, headers, job.pk, {"0": "name"}).status_code == 403
    assert not ImportJob.objects.exclude(pk=job.pk).exists()


def test_another_users_job_is_a_404_that_reveals_nothing(client, manager, sh_manager):
    theirs = upload(client, bearer(sh_manager), "客户.csv", csv_bytes(ROWS)).json()["id"]
    headers = bearer(manager)
    hidden = client.get(f"{API}/{theirs}", headers=headers)
    missing = client.get(f"{API}/999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    for suffix in ("/errors.csv",):
        assert client.get(f"{API}/{theirs}{suffix}", headers=headers).json() == missing.json()
    assert start(client, headers, theirs, {"0": "name"}).json() == missing.json()
    assert client.get(API, headers=headers).json()["items"] == []


@pytest.mark.parametrize(
    ("mapping", "code", "field"),
    [
        ({"0": "name", "1": "favourite_colour"}, "invalid_choice", "mapping.1"),
        ({"0": "name", "2": "name"}, "duplicate_target", "mapping.2"),
        ({"0": "name", "7": "phone"}, "invalid_column", "mapping.7"),
        ({"1": "phone"}, "required", "mapping"),
        ({"0": "name\x00", "1": "phone"}, "nul_character", "mapping.0"),
        ({"0": "name", "1": "phone\x07"}, "control_character", "mapping.1"),
        ({"0": "name", "1\x1b[2J": "phone"}, "control_character", "mapping"),
        ({"0": "name", "1": "phone\u202e"}, "bidi_override", "mapping.1"),
    ],
)
def test_a_bad_mapping_is_refused_with_its_code_and_field(client, manager, mapping, code, field):
    headers = bearer(manager)
    job = upload(client, headers, "客户.csv", csv_bytes(ROWS)).json()
    response = start(client, headers, job["id"], mapping)
    body = response.json()
    assert (response.status_code, body["code"], body["field"]) == (422, code, field), body
    assert ImportJob.objects.get().state == ImportJob.State.UPLOADED


def test_unknown_options_are_refused(client, manager):
    headers = bearer(manager)
    job = upload(client, headers, "客户.csv", csv_bytes(ROWS)).json()
    response = start(client, headers, job["id"], job["mapping"], mode="sometimes")
    assert (response.status_code, response.json()["field"]) == (422, "options.mode")
    response = start(client, headers, job["id"], job["mapping"], owner_id=10**6)
    assert (response.json()["code"], response.json()["field"]) == ("invalid_owner", "owner_id")


def test_an_oversized_upload_is_a_clear_4xx(client, manager, settings):
    settings.GUANXI_IMPORT_MAX_BYTES = 1024
    response = upload(client, bearer(manager), "大.csv", csv_bytes(ROWS * 100))
    body = response.json()
    assert (response.status_code, body["code"], body["field"]) == (422, "too_large", "file")
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("客户.csv", bytes(range(256)) * 40, "binary_file"),
        ("客户.csv", xlsx_bytes(ROWS), "workbook_named_csv"),
        ("客户.xlsx", b"not a workbook at all", "not_a_workbook"),
        ("客户.exe", b"MZ\x90\x00", "invalid_format"),
    ],
)
def test_refused_files_are_a_clear_4xx_with_code_and_field(client, manager, name, data, code):
    response = upload(client, bearer(manager), name, data)
    body = response.json()
    assert (response.status_code, body["code"], body["field"]) == (422, code, "file")
    assert not ImportJob.objects.exists()


def test_an_upload_without_a_file_or_with_an_unknown_kind_is_a_422(client, manager):
    headers = bearer(manager)
    response = client.post(API, {}, headers=headers)
    assert (response.status_code, response.json()["field"]) == (422, "file")
    response = upload(client, headers, "客户.csv", csv_bytes(ROWS), kind="orders")
    assert (response.status_code, response.json()["field"]) == (422, "kind")


def test_the_import_api_is_documented_in_openapi(client, manager):
    client.force_login(manager)
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in (
        API,
        f"{API}/{{job_id}}",
        f"{API}/{{job_id}}/start",
        f"{API}/{{job_id}}/errors.csv",
    ):
        assert path in paths, sorted(paths)
    upload_op = paths[API]["post"]
    assert {"201", "403", "422"} <= set(map(str, upload_op["responses"]))
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert "text/csv" in paths[f"{API}/{{job_id}}/errors.csv"]["get"]["responses"]["200"]["content"]
    assert "ImportJobOut" in schema["components"]["schemas"]
