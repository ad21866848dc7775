"""One primitive changes who owns a customer (customers/ownership.py, code review P1).

The source test reads every module of the project: a write of a customer's owner, unit,
protection, pool state or credit holder anywhere else fails it, so the rule bites the next
path someone adds. The behaviour tests check that the primitive does what every path relies
on: the fields, the hooks, one audit entry naming the reason.
"""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

import guanxi
from guanxi.core.models import AuditEntry
from guanxi.customers import ownership
from guanxi.customers.models import Customer
from guanxi.customers.ownership import Reason, ownership_change, ownership_change_many
from tests.conftest import new_customer

SOURCE = Path(guanxi.__file__).parent
# Fields that only the customer row has: written nowhere but in ownership.py.
CUSTOMER_ONLY = {
    "protected_until",
    "ownership_settled_at",
    "in_pool_since",
    "pool_previous_owner",
    "pool_previous_owner_id",
    "pool_cooling_until",
    "credit_holder",
    "credit_holder_id",
    "credit_since",
}
# Names other models share (a deal has an owner, a user a unit): caught where the code writes
# them on a customer (a Customer queryset, Customer(...), a variable named like a customer).
SHARED = {"owner", "owner_id", "org_unit", "org_unit_id"}
# Bulk generators of demo data write whole rows, below every service, by design (ADR 0003).
EXEMPT = {"customers/ownership.py", "demo/customers.py", "core/bulkload.py"}
WRITES = {"update", "create", "get_or_create", "update_or_create", "bulk_update"}


def _mentions_customer(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Name) and n.id == "Customer")
        or (isinstance(n, ast.Attribute) and n.attr == "Customer")
        for n in ast.walk(node)
    )


def _customer_like(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and (
        "customer" in node.id.lower() or node.id in ("keep", "other", "member", "person")
    )


def ownership_writes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            keywords = {k.arg for k in node.keywords if k.arg}
            on_customer = _mentions_customer(node.func)
            if name == "Customer" or (name in WRITES and on_customer):
                keywords |= (
                    {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}
                    if name == "bulk_update"
                    else set()
                )
                hit = keywords & (CUSTOMER_ONLY | SHARED)
            elif name in WRITES:
                hit = keywords & CUSTOMER_ONLY
                if name == "bulk_update":
                    hit |= {
                        n.value
                        for n in ast.walk(node)
                        if isinstance(n, ast.Constant) and n.value in CUSTOMER_ONLY
                    }
            else:
                hit = set()
            if hit:
                found.append((node.lineno, f"{name}({', '.join(sorted(hit))}=…)"))
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for target in targets:
            for t in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(t, ast.Attribute) and (
                    t.attr in CUSTOMER_ONLY or (t.attr in SHARED and _customer_like(t.value))
                ):
                    found.append((t.lineno, f"….{t.attr} = …"))
    return found


def project_ownership_writes() -> list[str]:
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if "/migrations/" in relative or relative in EXEMPT:
            continue
        for line, what in ownership_writes(ast.parse(path.read_text(), str(path))):
            found.append(f"{relative}:{line}: {what}")
    return found


def test_no_module_but_ownership_py_writes_a_customers_ownership_fields():
    assert project_ownership_writes() == []


@pytest.mark.parametrize(
    "code",
    [
        "Customer.objects.filter(pk=1).update(owner=None)",
        "Customer.objects.filter(pk=1).update(owner_id=5, org_unit=unit)",
        "Customer.objects.filter(pk=pk).update(in_pool_since=now)",
        "qs.update(protected_until=None)",
        "customer.owner = user",
        "customer.owner_id = 5",
        "customer.protected_until = end",
        "row.credit_holder = user",
        "Customer(owner=user, org_unit=unit)",
        "Customer.objects.bulk_update(rows, ['owner', 'updated_at'])",
        "Customer.objects.create(name='x', owner=user)",
    ],
)
def test_the_source_check_catches_each_way_of_writing_ownership(code):
    assert ownership_writes(ast.parse(code)), code


@pytest.mark.parametrize(
    "code",
    [
        "Deal.objects.create(customer=customer, owner=customer.owner or actor)",
        "Customer.objects.filter(owner=user).update(stage='customer')",
        "deal.owner_id == actor.pk",
        "user.org_unit = unit",
    ],
)
def test_the_source_check_leaves_reads_and_other_models_alone(code):
    assert ownership_writes(ast.parse(code)) == []


# ---- the primitive's behaviour ---------------------------------------------------------------


def test_reassignment_moves_owner_unit_and_credit_in_one_audited_change(owner, outsider, manager):
    customer = new_customer(owner, "王先生", ("13900001111",))
    now = timezone.now()
    fields = ownership_change(
        customer=customer,
        reason=Reason.MANUAL_REASSIGNMENT,
        actor=manager,
        now=now,
        owner=outsider,
        note="调岗",
    )
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.owner_id, customer.org_unit_id) == (outsider.pk, outsider.org_unit_id)
    assert (customer.credit_holder_id, customer.credit_since) == (outsider.pk, now)
    assert {"owner", "org_unit", "credit_holder", "next_follow_up_at"} <= set(fields)
    entry = AuditEntry.objects.get(verb="customer.reassign", target_id=customer.pk)
    assert entry.changes["owner_id"] == [owner.pk, outsider.pk]
    assert entry.changes["reason"] == "manual_reassignment"
    assert (entry.note, entry.actor_id) == ("调岗", manager.pk)


def test_the_pool_takes_owner_and_credit_and_the_follow_up(owner, org):
    customer = new_customer(owner, "李女士", ("13900002222",))
    assert customer.credit_holder_id == owner.pk and customer.next_follow_up_at is not None
    now = timezone.now()
    ownership_change_many(
        moves=[(customer, None)],
        reason=Reason.POOL_SWEEP,
        actor=None,
        now=now,
        org_unit=org["bj"],
        to_pool=True,
        cooling_until=now + timedelta(days=30),
    )
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.owner_id, customer.credit_holder_id, customer.org_unit_id) == (
        None,
        None,
        org["bj"].pk,
    )
    assert (customer.in_pool_since, customer.pool_previous_owner_id) == (now, owner.pk)
    assert (customer.next_follow_up_at, customer.follow_up_rule) == (None, "")
    assert AuditEntry.objects.get(verb="customer.to_pool").changes["reason"] == "pool_sweep"


def test_a_new_owner_ends_the_pool_state(owner, teammate, org):
    customer = new_customer(owner, "赵先生", ("13900003333",))
    now = timezone.now()
    ownership_change(
        customer=customer, reason=Reason.POOL_SWEEP, actor=None, now=now, owner=None, to_pool=True
    )
    ownership_change(customer=customer, reason=Reason.POOL_CLAIM, actor=teammate, owner=teammate)
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.owner_id, customer.credit_holder_id) == (teammate.pk, teammate.pk)
    assert (customer.in_pool_since, customer.pool_previous_owner_id) == (None, None)


def test_settlement_keeps_owner_and_credit(owner, manager):
    customer = new_customer(owner, "钱先生", ("13900004444",))
    ownership_change(customer=customer, reason=Reason.DEAL_SETTLEMENT, actor=owner, settle=True)
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.ownership_settled_at is not None
    assert (customer.owner_id, customer.credit_holder_id) == (owner.pk, owner.pk)
    assert AuditEntry.objects.filter(verb="customer.ownership_settled").count() == 1


def test_every_reason_has_its_audit_verb():
    assert set(ownership.VERBS) == set(Reason)


def test_a_merge_gives_an_unowned_record_the_merged_ones_owner(owner, manager, org):
    from guanxi.customers.services import customer_create, customer_merge

    kept = customer_create(
        actor=manager,
        data={"name": "前台登记的刘先生"},
        phones=["13900005555"],
        allow_similar=True,
        unowned_unit=org["bj"],
    )
    merged = new_customer(owner, "刘先生", ("13900006666",))
    customer_merge(actor=manager, keep_id=kept.pk, merge_id=merged.pk)
    kept = Customer.objects.get(pk=kept.pk)
    assert (kept.owner_id, kept.credit_holder_id) == (owner.pk, owner.pk)
    assert kept.protected_until == merged.protected_until
    entry = AuditEntry.objects.get(verb="customer.merge_ownership", target_id=kept.pk)
    assert entry.changes["reason"] == "merge"
