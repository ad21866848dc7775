"""A manager imports a GBK spreadsheet export in a real browser: upload, the proposed
mapping with its preview, "skip bad rows", the progress page following the job to its end,
and the bad row reported with its line number."""

import re

import pytest
from playwright.sync_api import expect

from guanxi.customers.models import Customer
from guanxi.transfer.jobs import import_run
from guanxi.transfer.models import ImportJob
from tests.conftest import PASSWORD

from .helpers import log_in, shot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "客户名单（导出自旧系统）,,,\r\n"
    "姓名,手机,邮箱,生日\r\n"
    "张三,１３８１２３４５６７８,zhangsan@example.cn,1985年3月2日\r\n"
    "李四,139-1234-5678,,1985/3/2\r\n"
    "王五,12345,,\r\n"
).encode("gbk")


def test_manager_imports_a_gbk_file_and_sees_the_bad_row(new_page, manager):
    page = new_page(locale="zh-CN")
    log_in(page, manager.username, PASSWORD)
    page.goto("/imports/")
    page.set_input_files("#file", {"name": "客户.csv", "mimeType": "text/csv", "buffer": CSV})
    page.locator("form button.btn-primary").first.click()

    # The mapping page found the header under the title row and proposes the columns.
    expect(page).to_have_url(re.compile(r"/imports/\d+/mapping/$"))
    preview = page.locator("#preview")
    expect(preview).to_contain_text("张三")
    expect(preview).to_contain_text("1985年3月2日")
    expect(page.locator("select[name=col_1]")).to_have_value("phone")
    page.check("#skip-bad")
    shot(page, "import-01-mapping")
    page.locator("#mapping button.btn-primary").click()

    # The job waits for the worker; run it as the worker would, and the page follows.
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.QUEUED
    import_run(job_id=job.pk)
    progress = page.locator("#progress")
    expect(progress).to_contain_text("已完成", timeout=10_000)
    expect(page.locator("#counts")).to_contain_text("已创建")
    expect(page.locator("#counts")).to_contain_text("2")
    expect(page.locator("#errors")).to_contain_text("“12345”不是有效的电话号码")  # line 5
    expect(page.locator("#error-report")).to_be_visible()
    shot(page, "import-02-done")
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "李四"]
    assert Customer.objects.get(name="张三").primary_phone == "+8613812345678"
