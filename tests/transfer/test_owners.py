"""Owner assignment of new customers: by column, by a fixed rule, by rotation."""

import pytest

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer
from guanxi.transfer.models import ImportJob

from .helpers import csv_bytes, import_file, run, upload


def test_owner_by_column_username_or_display_name(manager, owner, teammate):
    data = csv_bytes(
        [
            ["姓名", "手机", "负责人"],
            ["甲", "13812345671", "sales1"],
            ["乙", "13812345672", "李娜"],
            ["丙", "13812345673", ""],
        ]
    )
    job = import_file(manager, "a.csv", data, owner_mode="column", owner_id=owner.pk)
    assert job.state == ImportJob.State.SUCCEEDED, job.errors_preview
    owners = dict(Customer.objects.values_list("name", "owner_id"))
    assert owners == {"甲": owner.pk, "乙": teammate.pk, "丙": owner.pk}
    assert set(Customer.objects.values_list("org_unit_id", flat=True)) == {owner.org_unit_id}


def test_owner_column_refuses_someone_out_of_scope(manager, outsider):
    data = csv_bytes([["姓名", "负责人"], ["甲", "sales3"]])
    job = import_file(manager, "a.csv", data, owner_mode="column")
    assert job.state == ImportJob.State.REJECTED
    assert job.errors_preview[0]["line"] == 2


def test_fixed_owner(admin_user, owner):
    data = csv_bytes([["姓名"], ["甲"], ["乙"]])
    import_file(admin_user, "a.csv", data, owner_mode="fixed", owner_id=owner.pk)
    assert set(Customer.objects.values_list("owner_id", flat=True)) == {owner.pk}


def test_rotation_shares_out_round_robin(manager, owner, teammate):
    data = csv_bytes([["姓名"], *[[f"客户{i}"] for i in range(6)]])
    import_file(manager, "a.csv", data, owner_mode="rotation")
    counts = {}
    for owner_id in Customer.objects.values_list("owner_id", flat=True):
        counts[owner_id] = counts.get(owner_id, 0) + 1
    assert counts == {owner.pk: 3, teammate.pk: 3}


def test_fixed_owner_must_be_someone_the_importer_may_assign(manager, outsider):
    job = upload(manager, "a.csv", csv_bytes([["姓名"], ["甲"]]))
    with pytest.raises(ValidationFailed):
        run(job, manager, owner_mode="fixed", owner_id=outsider.pk)


def test_salespeople_may_not_import(owner):
    from guanxi.core.errors import Forbidden

    with pytest.raises(Forbidden):
        upload(owner, "a.csv", csv_bytes([["姓名"], ["甲"]]))
