"""Duplicates matched to existing customers by phone or e-mail; idempotent re-import."""

from guanxi.customers.models import Customer, CustomerPhone
from guanxi.transfer.jobs import import_run
from guanxi.transfer.models import ImportJob, ImportKey
from guanxi.transfer.services import import_rerun
from tests.conftest import new_customer

from .helpers import csv_bytes, import_file

HEADER = ["姓名", "手机", "邮箱", "公司", "城市"]


def test_same_file_twice_imports_each_customer_once(admin_user):
    data = csv_bytes(
        [
            HEADER,
            ["张三", "13812345678", "", "华强", "北京"],
            ["李四", "", "lisi@example.cn", "", "上海"],
            ["王五", "", "", "美的", "广州"],  # neither phone nor e-mail: matched by its key
        ]
    )
    first = import_file(admin_user, "a.csv", data)
    second = import_file(admin_user, "a.csv", data)
    third = import_file(admin_user, "a.csv", data, duplicates="update")
    assert first.created_count == 3
    assert (second.created_count, second.skipped_count) == (0, 3)
    assert (third.created_count, third.unchanged_count, third.updated_count) == (0, 3, 0)
    assert Customer.objects.count() == 3
    assert first.sha256 == second.sha256 == third.sha256
    assert ImportKey.objects.count() == 3


def test_rerunning_a_job_is_idempotent(admin_user):
    job = import_file(admin_user, "a.csv", csv_bytes([HEADER, ["张三", "13812345678", "", "", ""]]))
    import_rerun(actor=admin_user, job_id=job.pk)
    job = import_run(job_id=job.pk)
    assert job.state == ImportJob.State.SUCCEEDED
    assert (job.created_count, job.skipped_count) == (0, 1)
    assert Customer.objects.count() == 1


def test_existing_customer_matched_by_phone_is_skipped_by_default(admin_user, customer):
    job = import_file(
        admin_user, "a.csv", csv_bytes([HEADER, ["张三丰", "138 1234 5678", "", "武当", ""]])
    )
    assert (job.created_count, job.skipped_count) == (0, 1)
    customer.refresh_from_db()
    assert customer.company == "华强电子"


def test_existing_customer_matched_by_email_is_updated_on_request(admin_user, customer):
    job = import_file(
        admin_user,
        "a.csv",
        csv_bytes([HEADER, ["张三", "13987654321", "ZhangSan@Example.cn", "新公司", "深圳"]]),
        duplicates="update",
    )
    assert (job.created_count, job.updated_count) == (0, 1)
    customer.refresh_from_db()
    assert (customer.company, customer.company_key, customer.city) == ("新公司", "新公司", "深圳")
    assert customer.owner_id is not None  # an import never takes a customer from its owner
    assert sorted(customer.phones.values_list("number", flat=True)) == [
        "+8613812345678",
        "+8613987654321",
    ]
    assert customer.primary_phone == "+8613812345678"


def test_row_matching_two_customers_is_an_error(admin_user, owner):
    new_customer(owner, "甲", ("13812345678",))
    new_customer(owner, "乙", ("13912345678",), email="yi@example.cn")
    job = import_file(
        admin_user,
        "a.csv",
        csv_bytes([HEADER, ["甲", "13812345678", "yi@example.cn", "", ""]]),
        duplicates="update",
    )
    assert job.state == ImportJob.State.REJECTED
    assert "#" in job.errors_preview[0]["message"]
    assert Customer.objects.count() == 2


def test_manager_cannot_update_another_branchs_customer(manager, outsider):
    theirs = new_customer(outsider, "王五", ("13900001111",))
    job = import_file(
        manager,
        "a.csv",
        csv_bytes([HEADER, ["王五", "13900001111", "", "改名公司", ""]]),
        duplicates="update",
        mode="skip_bad",
    )
    assert job.error_count == 1 and job.updated_count == 0
    assert "not_editable" in open_report_codes(job)
    theirs.refresh_from_db()
    assert theirs.company == ""


def test_import_names_no_customer_the_importer_may_not_edit(manager, outsider):
    """No existence oracle (C8): the report says the phone is taken, not whose record holds it."""
    theirs = new_customer(outsider, "王五", ("13900001111",))
    job = import_file(
        manager,
        "a.csv",
        csv_bytes([HEADER, ["王五", "13900001111", "", "改名公司", ""]]),
        duplicates="update",
        mode="skip_bad",
    )
    messages = [row["message"] for row in job.errors_preview]
    assert messages and not [m for m in messages if f"#{theirs.pk}" in m or "王五" in m]


def test_ambiguous_row_names_only_the_importers_own_matches(manager, owner, outsider):
    mine = new_customer(owner, "甲", ("13812345678",))
    theirs = new_customer(outsider, "乙", ("13912345678",))
    job = import_file(
        manager,
        "a.csv",
        csv_bytes([HEADER, ["甲", "13812345678;13912345678", "", "", ""]]),
        duplicates="update",
    )
    message = job.errors_preview[0]["message"]
    assert (f"#{mine.pk}" in message, f"#{theirs.pk}" in message) == (True, False)


def open_report_codes(job) -> set[str]:
    from .helpers import report_rows

    return {row[4] for row in report_rows(job)}


def test_merged_customer_is_found_through_its_import_key(admin_user, owner):
    from guanxi.customers.services import customer_merge

    data = csv_bytes([["姓名", "客户编号"], ["王五", "K-001"]])
    first = import_file(admin_user, "a.csv", data)
    imported = Customer.objects.get(pk=ImportKey.objects.get().customer_id)
    keep = new_customer(admin_user, "王五", ("13912345678",))
    customer_merge(actor=admin_user, keep_id=keep.pk, merge_id=imported.pk)
    again = import_file(admin_user, "a.csv", data)
    assert first.created_count == 1
    assert (again.created_count, again.skipped_count) == (0, 1)
    assert Customer.objects.filter(merged_into__isnull=True).count() == 1


def test_external_id_column_keys_the_rows(admin_user):
    data = csv_bytes([["客户编号", "姓名", "城市"], ["C001", "张三", "北京"]])
    import_file(admin_user, "a.csv", data)
    changed = csv_bytes([["客户编号", "姓名", "城市"], ["C001", "张三", "上海"]])
    job = import_file(admin_user, "b.csv", changed, duplicates="update")
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Customer.objects.get().city == "上海"
    assert ImportKey.objects.get().key == "c:ext:C001"


def test_phone_rows_get_phone_records_and_search_keys(admin_user):
    import_file(admin_user, "a.csv", csv_bytes([HEADER, ["欧阳娜娜", "13812345678", "", "", ""]]))
    customer = Customer.objects.get()
    assert (customer.name_pinyin, customer.name_initials) == ("ouyangnana", "oynn")
    assert CustomerPhone.objects.get().customer_id == customer.pk


def test_remembered_mapping_is_offered_again(admin_user):
    from .helpers import run, upload

    data = csv_bytes([["甲列", "乙列"], ["张三", "13812345678"]])
    job = upload(admin_user, "odd.csv", data)
    assert job.mapping == {}
    run(job, admin_user, mapping={"0": "name", "1": "phone"})
    again = upload(admin_user, "odd-2.csv", data)
    assert again.mapping == {"0": "name", "1": "phone"}
