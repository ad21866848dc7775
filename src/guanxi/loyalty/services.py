"""Every change of points and tiers: permission, one transaction, ledger entry and audit.

The balance never goes negative: each debit is a conditional UPDATE on the customer's
`PointsAccount` row (`… WHERE balance >= n`), which the database applies atomically; the
row also carries `CHECK (balance >= 0)`. Every operation updates that row first, so it is
also the lock that orders concurrent operations on one customer's lots (no deadlock: one
row, always first).

Idempotency: each ledger entry has a unique key from its source event; a replay finds it
and changes nothing.
"""

from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.calendar import add_months
from guanxi.core.errors import Conflict, Forbidden, ValidationFailed
from guanxi.core.events import event_effect
from guanxi.core.models import User
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get

from .models import (
    EarningRule,
    LotUse,
    LoyaltySettings,
    PointsAccount,
    PointsEntry,
    PointsLot,
    Reward,
    Tier,
    TierChange,
)
from .permissions import can_refund_points, may_serve_member
from .tiers import tier_evaluate

Kind = PointsEntry.Kind
MAX_POINTS = 1_000_000_000


def parse_points(value, field: str = "points") -> int:
    """A whole, positive number of points; fractions, negatives and floats are refused."""
    if isinstance(value, bool):
        value = None
    try:
        number = Decimal(str(value).strip())
    except Exception:
        number = None
    if number is None or not number.is_finite():
        raise ValidationFailed.single(field, "invalid", _("Enter a whole number of points."))
    if number != number.to_integral_value():
        raise ValidationFailed.single(field, "not_whole", _("Points are whole numbers."))
    if number <= 0:
        raise ValidationFailed.single(
            field, "not_positive", _("Enter a positive number of points.")
        )
    if number > MAX_POINTS:
        raise ValidationFailed.single(field, "too_large", _("That is too many points."))
    return int(number)


def _key(value: str, field: str = "key") -> str:
    value = (value or "").strip()
    if not value or len(value) > 100:
        raise ValidationFailed.single(
            field, "required", _("Send an idempotency key (up to 100 characters).")
        )
    return value


# ---- the balance row and the ledger primitives ---------------------------------------------


def _ensure_account(customer_id: int) -> None:
    # INSERT … ON CONFLICT DO NOTHING: two first earnings at once never collide.
    PointsAccount.objects.bulk_create(
        [PointsAccount(customer_id=customer_id)], ignore_conflicts=True
    )


def _balance(customer_id: int) -> int:
    return PointsAccount.objects.filter(customer_id=customer_id).values_list("balance", flat=True)[
        0
    ]


def _credit(
    *,
    customer_id: int,
    points: int,
    kind: str,
    key: str,
    expires_at: datetime,
    ref: str = "",
    amount: Decimal = Decimal("0.00"),
    actor: User | None = None,
    note: str = "",
    reverses: PointsEntry | None = None,
    lot: bool = True,
) -> PointsEntry:
    _ensure_account(customer_id)
    PointsAccount.objects.filter(customer_id=customer_id).update(
        balance=F("balance") + points, updated_at=timezone.now()
    )
    entry = PointsEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        points=points,
        balance_after=_balance(customer_id),
        key=key,
        ref=ref,
        amount=amount,
        actor=actor,
        note=note[:200],
        reverses=reverses,
    )
    if lot:
        PointsLot.objects.create(
            customer_id=customer_id,
            entry=entry,
            points=points,
            remaining=points,
            expires_at=expires_at,
        )
    return entry


def _debit(
    *,
    customer_id: int,
    points: int,
    kind: str,
    key: str,
    ref: str = "",
    amount: Decimal = Decimal("0.00"),
    actor: User | None = None,
    note: str = "",
    reward: Reward | None = None,
    reverses: PointsEntry | None = None,
    lots=None,
) -> PointsEntry:
    """Take `points` off the balance — only if the balance covers them — and off the lots,
    earliest-expiring first (or from `lots`, in the order given)."""
    _ensure_account(customer_id)
    won = PointsAccount.objects.filter(customer_id=customer_id, balance__gte=points).update(
        balance=F("balance") - points, updated_at=timezone.now()
    )
    if not won:
        raise Conflict(
            _("Not enough points: the balance is %(balance)s.")
            % {"balance": f"{_balance(customer_id):,}"},
            code="insufficient_points",
            field="points",
        )
    entry = PointsEntry.objects.create(
        customer_id=customer_id,
        kind=kind,
        points=-points,
        balance_after=_balance(customer_id),
        key=key,
        ref=ref,
        amount=amount,
        actor=actor,
        note=note[:200],
        reward=reward,
        reverses=reverses,
    )
    if lots is None:
        lots = (
            PointsLot.objects.select_for_update()
            .filter(customer_id=customer_id, remaining__gt=0)
            .order_by("expires_at", "id")
        )
    left = points
    uses = []
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take <= 0:
            continue
        PointsLot.objects.filter(pk=lot.pk).update(remaining=F("remaining") - take)
        uses.append(LotUse(entry=entry, lot=lot, points=take))
        left -= take
    if left:  # the balance always equals the lots' remaining points
        raise RuntimeError(f"points lots of customer {customer_id} short by {left}")
    LotUse.objects.bulk_create(uses)
    return entry


def _existing(key: str) -> PointsEntry | None:
    return PointsEntry.objects.filter(key=key).first()


def _once(key: str, write):
    """Run `write()` unless an entry with `key` exists; a concurrent duplicate loses on the
    unique index and gets the winner's entry. Returns (entry, created)."""
    if entry := _existing(key):
        return entry, False
    try:
        with transaction.atomic():
            return write(), True
    except IntegrityError:
        if entry := _existing(key):
            return entry, False
        raise


def _expiry(now: datetime) -> datetime:
    return datetime.combine(
        add_months(timezone.localtime(now).date(), LoyaltySettings.current().expiry_months),
        datetime.max.time(),
        tzinfo=timezone.get_current_timezone(),
    )


def points_for_spend(amount: Decimal, tier: Tier | None = None) -> int:
    """Points the active spend rules give for `amount` yuan (times the tier's multiplier)."""
    total = Decimal(0)
    for rule in EarningRule.objects.filter(
        kind=EarningRule.Kind.SPEND, active=True, per_amount__gt=0
    ):
        assert rule.per_amount is not None  # the CHECK constraint: a spend rule has an amount
        total += (amount / rule.per_amount).to_integral_value(ROUND_FLOOR) * rule.points
    if tier is not None:
        total *= tier.multiplier
    return int(total.to_integral_value(ROUND_FLOOR))


def _tier_of(customer_id: int) -> Tier | None:
    account = PointsAccount.objects.filter(customer_id=customer_id).select_related("tier").first()
    return account.tier if account else None


# ---- earning -----------------------------------------------------------------------------


def points_earn_for_spend(
    *,
    customer_id: int,
    amount: Decimal,
    key: str,
    ref: str = "",
    actor: User | None = None,
    now: datetime | None = None,
) -> PointsEntry | None:
    """Points for money received (called for each recorded payment). Idempotent per `key`;
    the tier is re-evaluated at this transaction. None when the rules give nothing."""
    now = now or timezone.now()
    amount = Decimal(amount)
    if amount <= 0:
        return None
    with transaction.atomic():
        if entry := _existing(key):
            return entry
        points = points_for_spend(amount, _tier_of(customer_id))

        def write():
            if points > 0:
                return _credit(
                    customer_id=customer_id,
                    points=points,
                    kind=Kind.EARN,
                    key=key,
                    ref=ref,
                    amount=amount,
                    actor=actor,
                    expires_at=_expiry(now),
                )
            # Nothing to earn, but the spend still qualifies for tiers: a zero line.
            _ensure_account(customer_id)
            return PointsEntry.objects.create(
                customer_id=customer_id,
                kind=Kind.EARN,
                points=0,
                balance_after=_balance(customer_id),
                key=key,
                ref=ref,
                amount=amount,
                actor=actor,
            )

        entry, created = _once(key, write)
        if created:
            if entry.points:
                event_effect(
                    "points.earned",
                    {"customer_id": customer_id, "points": entry.points},
                    _("%(points)s points earned.") % {"points": f"{entry.points:,}"},
                )

            tier_evaluate(customer_id=customer_id, source=key, now=now)
    return entry


def points_for_visit() -> int:
    """Points the active visit rules give for one visit (0 when no rule gives any)."""
    return sum(
        EarningRule.objects.filter(kind=EarningRule.Kind.VISIT, active=True).values_list(
            "points", flat=True
        )
    )


def points_earn_visit(*, actor: User, customer_id: int, key: str) -> PointsEntry:
    """Points for a visit, by the visit rules; idempotent per visit key.

    The manual button, for a visit the desk did not record (an event, a home visit): a
    visitor received at the desk earns by `points_earn_for_desk_visit` on its own."""
    key = "visit:" + _key(key)
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        if not may_serve_member(actor, customer):
            raise Forbidden(_("You may not record points for this customer."))
        if entry := _existing(key):
            return entry
        points = points_for_visit()
        if points <= 0:
            raise Conflict(_("No rule gives points for a visit."), code="no_visit_rule")
        now = timezone.now()
        today = datetime.combine(
            timezone.localdate(now), datetime.min.time(), tzinfo=timezone.get_current_timezone()
        )
        if PointsEntry.objects.filter(
            customer_id=customer.pk, at__gte=today, key__startswith="visit:desk:"
        ).exists():
            raise Conflict(
                _("The desk already gave the points for today's visit."),
                code="visit_already_earned",
            )
        entry, created = _once(
            key,
            lambda: _credit(
                customer_id=customer.pk,
                points=points,
                kind=Kind.EARN,
                key=key,
                actor=actor,
                note=_("Visit"),
                expires_at=_expiry(now),
            ),
        )
        if created:
            audit_record(
                actor=actor,
                verb="points.earn_visit",
                target=customer,
                changes={"points": [None, points]},
            )
    return entry


def desk_visit_key(visit_id: int) -> str:
    return f"visit:desk:{visit_id}"


def points_earn_for_desk_visit(
    *, visit_id: int, customer_id: int, now: datetime | None = None
) -> PointsEntry | None:
    """Points for a visitor received at the desk (reception's `visit.received` event), by
    the visit rules: once per visit, whatever the number of deliveries of the event (the
    ledger's unique key `visit:desk:<visit id>`). The desk's own permission to receive the
    visitor is the permission here; the audit entry names the visit. None when no rule
    gives points for a visit (nothing to write)."""
    now = now or timezone.now()
    key = desk_visit_key(visit_id)
    with transaction.atomic():
        if entry := _existing(key):
            return entry
        points = points_for_visit()
        if points <= 0:
            return None
        entry, created = _once(
            key,
            lambda: _credit(
                customer_id=customer_id,
                points=points,
                kind=Kind.EARN,
                key=key,
                ref=f"visit:{visit_id}",
                note=_("Visit at the desk"),
                expires_at=_expiry(now),
            ),
        )
        if created:
            audit_record(
                actor=None,
                verb="points.earn_visit",
                target=Customer.objects.only("pk", "name").get(pk=customer_id),
                changes={"points": [None, points], "visit": [None, visit_id]},
            )
            event_effect(
                "points.earned",
                {"customer_id": customer_id, "points": points},
                _("%(points)s points earned.") % {"points": f"{points:,}"},
            )

            tier_evaluate(customer_id=customer_id, source=key, now=now)
    return entry


# ---- redeeming ---------------------------------------------------------------------------


def points_redeem(
    *,
    actor: User,
    customer_id: int,
    key: str,
    reward_id: int | None = None,
    points=None,
    ref: str = "",
    note: str = "",
) -> PointsEntry:
    """Redeem for a reward (its price in points) or `points` for a discount on `ref`.

    Never more than the balance (409 `insufficient_points`, the ledger unchanged); an
    expired or withdrawn reward is refused (409 `reward_expired`). Idempotent per `key`.
    """
    key = "redeem:" + _key(key)
    reward = None
    if reward_id is not None:
        reward = Reward.objects.filter(pk=reward_id).first()
        if reward is None:
            raise ValidationFailed.single("reward_id", "not_found", _("No such reward."))
        if not reward.active or reward.expired():
            raise Conflict(_("This reward has expired."), code="reward_expired", field="reward_id")
        cost = reward.points
        if points is not None and parse_points(points) != cost:
            raise ValidationFailed.single(
                "points", "reward_price", _("This reward costs %s points.") % f"{cost:,}"
            )
    elif points is None:
        raise ValidationFailed.single(
            "reward_id", "required", _("Choose a reward or enter points.")
        )
    else:
        cost = parse_points(points)
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        if not may_serve_member(actor, customer):
            raise Forbidden(_("You may not redeem points for this customer."))
        if (entry := _existing(key)) is not None:
            if entry.customer_id != customer.pk:
                raise Conflict(_("This key was used for another customer."), code="key_reused")
            return entry
        entry, created = _once(
            key,
            lambda: _debit(
                customer_id=customer.pk,
                points=cost,
                kind=Kind.REDEEM,
                key=key,
                ref=ref[:60],
                actor=actor,
                reward=reward,
                note=note or (reward.name if reward else _("Discount")),
            ),
        )
        if created:
            audit_record(
                actor=actor,
                verb="points.redeem",
                target=customer,
                changes={"points": [None, -cost], "reward": [None, reward.name if reward else ""]},
            )
    return entry


# ---- refunds -----------------------------------------------------------------------------


def _refund(ref: str, actor: User | None, *, partial: bool = False) -> tuple[int, int, int]:
    """Take back what `ref` earned and give back the lots its redemptions consumed.
    Returns (points taken back, points given back, ledger lines written); no lines when it
    was all done before. `partial`: points already spent elsewhere are taken only as far as
    the balance allows (the sales event's refund); otherwise they refuse the refund."""
    taken = given = lines = 0
    now = timezone.now()
    entries = list(PointsEntry.objects.filter(ref=ref).order_by("id"))
    # First give back what the order redeemed (its lots, as they were), then take back what
    # it earned: a customer who paid partly in points never ends short by the refund.
    for redeem in [e for e in entries if e.kind == Kind.REDEEM]:
        key = f"restore:{redeem.pk}"
        if _existing(key):
            continue
        _ensure_account(redeem.customer_id)
        PointsAccount.objects.filter(customer_id=redeem.customer_id).update(
            balance=F("balance") - redeem.points, updated_at=now
        )
        PointsEntry.objects.create(
            customer_id=redeem.customer_id,
            kind=Kind.RESTORE,
            points=-redeem.points,
            balance_after=_balance(redeem.customer_id),
            key=key,
            ref=ref,
            actor=actor,
            reverses=redeem,
        )
        for use in redeem.uses.all():
            # The lot comes back as it was, with its own expiry date.
            PointsLot.objects.filter(pk=use.lot_id).update(remaining=F("remaining") + use.points)
        given += -redeem.points
        lines += 1
    for earn in [e for e in entries if e.kind == Kind.EARN]:
        key = f"reverse:{earn.pk}"
        if _existing(key):
            continue
        lines += 1
        take = earn.points
        if partial:
            _ensure_account(earn.customer_id)
            take = min(take, _balance(earn.customer_id))
        if take <= 0:
            # Nothing to take (a spend below the rules, or all spent): the line still takes
            # back the qualifying spend.
            _ensure_account(earn.customer_id)
            PointsEntry.objects.create(
                customer_id=earn.customer_id,
                kind=Kind.REVERSE,
                points=0,
                balance_after=_balance(earn.customer_id),
                key=key,
                ref=ref,
                amount=earn.amount,
                actor=actor,
                reverses=earn,
                note=_("%(short)s points already spent") % {"short": earn.points}
                if earn.points
                else "",
            )
            continue
        # The balance row is locked before the lots, as by every operation on points (one
        # order of locks: a refund and the expiry pass never deadlock).
        _ensure_account(earn.customer_id)
        list(PointsAccount.objects.select_for_update().filter(customer_id=earn.customer_id))
        # Exactly the points it earned: from its own lot first, then earliest-expiring.
        lot = PointsLot.objects.filter(entry=earn).first()
        own = list(PointsLot.objects.select_for_update().filter(pk=lot.pk)) if lot else []
        rest = (
            PointsLot.objects.select_for_update()
            .filter(customer_id=earn.customer_id, remaining__gt=0)
            .exclude(pk__in=[x.pk for x in own])
            .order_by("expires_at", "id")
        )
        _debit(
            customer_id=earn.customer_id,
            points=take,
            kind=Kind.REVERSE,
            key=key,
            ref=ref,
            amount=earn.amount,
            actor=actor,
            reverses=earn,
            lots=[*own, *rest],
            note=_("%(short)s points already spent") % {"short": earn.points - take}
            if take < earn.points
            else "",
        )
        taken += take
    return taken, given, lines


def points_refund(*, actor: User, ref: str) -> dict:
    """A refunded order or deal (`order:12`, `deal:5`): take back exactly what it earned and
    give back the lots it consumed. A second refund is refused (409 `already_refunded`);
    points already spent elsewhere refuse it too (409 `insufficient_points`): the ledger
    stays unchanged."""
    ref = (ref or "").strip()[:60]
    if not can_refund_points(actor):
        raise Forbidden(_("Only finance or a manager refunds points."))
    with transaction.atomic():
        first = PointsEntry.objects.filter(ref=ref, kind__in=[Kind.EARN, Kind.REDEEM]).first()
        if not ref or first is None:
            raise ValidationFailed.single(
                "ref", "not_found", _("No points were earned or redeemed for this.")
            )
        customer = customer_get(viewer=actor, pk=first.customer_id)
        taken, given, lines = _refund(ref, actor)
        if not lines:
            raise Conflict(_("This was already refunded."), code="already_refunded", field="ref")
        audit_record(
            actor=actor,
            verb="points.refund",
            target=customer,
            changes={"ref": [None, ref], "taken": [None, taken], "given": [None, given]},
        )
    return {"ref": ref, "taken_back": taken, "given_back": given}


def points_refund_quietly(*, ref: str) -> tuple[int, int]:
    """The refund a sales event triggers (a lost deal that had money in): idempotent,
    silent when there is nothing to do, never negative."""
    with transaction.atomic():
        taken, given, _lines = _refund(ref, None, partial=True)
    return taken, given


# ---- expiry ------------------------------------------------------------------------------

EXPIRY_BATCH = 2000


def points_expire_due(now: datetime | None = None, *, batch: int = EXPIRY_BATCH) -> int:
    """Periodic: every lot past its date loses what remains, earliest-expiring first, in
    batches of `batch` lots, one transaction and a handful of statements each (the ledger
    lines by INSERT … SELECT, the balances by their summed amounts). Safe to run twice or
    at once: a lot is taken only while its remaining points are locked and above zero.
    Returns the number of lots expired."""
    now = now or timezone.now()
    count = 0
    stuck: list[int] = []
    while True:
        with transaction.atomic():
            due = list(
                PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
                .order_by("expires_at", "id")
                .values_list("pk", "customer_id")[:batch]
            )
            if not due:
                return count
            expired = _expire_lots(due, now)
        count += expired
        if not expired:
            # A concurrent pass took them meanwhile (the next batch goes on), or they cannot
            # be taken (no balance row): stop rather than select the same lots again.
            if stuck == [pk for pk, _c in due]:
                return count
            stuck = [pk for pk, _c in due]


def _expire_lots(due: list[tuple[int, int]], now: datetime) -> int:
    """Expire what remains of the `due` lots ((lot id, customer id) pairs), in the caller's
    transaction. The balance rows are locked first, in customer order, as every other
    operation on points does (one order of locks: no deadlock); then the lots, re-read
    under that lock, so a redemption that took points from them meanwhile is counted and
    a lot a concurrent pass emptied is left out. (SQLite: the IMMEDIATE transaction
    already holds the database's write lock; nothing changed since the caller read.)"""
    from django.db import connection

    accounts = set(
        PointsAccount.objects.select_for_update()
        .filter(customer_id__in={c for _pk, c in due})
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )
    lot_ids = [pk for pk, c in due if c in accounts]
    if lot_ids and connection.vendor != "sqlite":
        lot_ids = list(
            PointsLot.objects.select_for_update()
            .filter(pk__in=lot_ids, customer_id__in=accounts, remaining__gt=0, expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    if not lot_ids:
        return 0
    q = connection.ops.quote_name
    entry, lot, use, account = (
        q(m._meta.db_table) for m in (PointsEntry, PointsLot, LotUse, PointsAccount)
    )
    marks = ", ".join(["%s"] * len(lot_ids))
    # A lot given back by a refund after it expired expires again: its key counts on.
    earlier = (
        f"(SELECT COUNT(*) FROM {use} u JOIN {entry} e ON e.id = u.entry_id"
        f" WHERE u.lot_id = l.id AND e.kind = 'expire')"
    )
    key = f"'expire:' || l.id || CASE WHEN {earlier} = 0 THEN '' ELSE ':' || ({earlier} + 1) END"
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        # One ledger line per lot, in expiry order, each with the balance after it.
        cursor.execute(
            f"INSERT INTO {entry} ({q('customer_id')}, {q('kind')}, {q('points')},"
            f" {q('balance_after')}, {q('key')}, {q('ref')}, {q('amount')}, {q('note')},"
            f" {q('at')})"
            f" SELECT l.customer_id, %s, -l.remaining, a.balance - SUM(l.remaining)"
            f" OVER (PARTITION BY l.customer_id ORDER BY l.expires_at, l.id),"
            f" {key}, '', 0, %s, %s"
            f" FROM {lot} l JOIN {account} a ON a.customer_id = l.customer_id"
            f" WHERE l.id IN ({marks}) ORDER BY l.expires_at, l.id"
            f" RETURNING id, {q('key')}, points",
            [Kind.EXPIRE, _("Expired"), at, *lot_ids],
        )
        uses = [(pk, int(k.split(":")[1]), -points) for pk, k, points in cursor.fetchall()]
        cursor.executemany(
            f"INSERT INTO {use} (entry_id, lot_id, points) VALUES (%s, %s, %s)", uses
        )
        # The balances by the summed amounts (CHECK balance >= 0 holds: they are the lots').
        cursor.execute(
            f"UPDATE {account} SET balance = balance - s.total, updated_at = %s"
            f" FROM (SELECT customer_id, SUM(remaining) AS total FROM {lot}"
            f" WHERE id IN ({marks}) GROUP BY customer_id) s"
            f" WHERE {account}.customer_id = s.customer_id",
            [at, *lot_ids],
        )
        cursor.execute(f"UPDATE {lot} SET remaining = 0 WHERE id IN ({marks})", lot_ids)
    return len(uses)


# ---- merge -------------------------------------------------------------------------------


def points_merge(*, keep_id: int, merge_id: int) -> None:
    """Two customer records merged: the merged one's lots, ledger and balance join the kept
    one's (called by the customer-merge event, inside the merge's transaction)."""
    account = PointsAccount.objects.filter(customer_id=merge_id).first()
    PointsEntry.objects.filter(customer_id=merge_id).update(customer_id=keep_id)
    PointsLot.objects.filter(customer_id=merge_id).update(customer_id=keep_id)
    TierChange.objects.filter(customer_id=merge_id).update(customer_id=keep_id)
    if account is None or account.balance == 0:
        return
    _ensure_account(keep_id)
    moved = account.balance
    PointsAccount.objects.filter(customer_id=merge_id).update(balance=0)
    PointsAccount.objects.filter(customer_id=keep_id).update(balance=F("balance") + moved)
    PointsEntry.objects.create(
        customer_id=keep_id,
        kind=Kind.MERGE,
        points=0,
        balance_after=_balance(keep_id),
        key=f"merge:{merge_id}:{keep_id}",
        note=_("%(points)s points of #%(id)s merged in") % {"points": moved, "id": merge_id},
    )


def account_summary(customer_id: int) -> dict:
    account = PointsAccount.objects.filter(customer_id=customer_id).select_related("tier").first()
    if account is None:
        # Never credited (every credit makes the account first, _credit): no lots to read.
        # Most customers on the customer page, which asks on every view.
        return {
            "balance": 0,
            "tier": None,
            "tier_until": None,
            "expiring_30_days": 0,
            "next_expiry": None,
            "next_expiry_points": 0,
        }
    soon = timezone.now() + timedelta(days=30)
    expiring = (
        PointsLot.objects.filter(
            customer_id=customer_id, remaining__gt=0, expires_at__lte=soon
        ).aggregate(n=Sum("remaining"))["n"]
        or 0
    )
    next_lot = (
        PointsLot.objects.filter(customer_id=customer_id, remaining__gt=0)
        .order_by("expires_at", "id")
        .first()
    )
    return {
        "balance": account.balance,
        "tier": account.tier,
        "tier_until": account.tier_until,
        "expiring_30_days": expiring,
        "next_expiry": next_lot.expires_at if next_lot else None,
        "next_expiry_points": next_lot.remaining if next_lot else 0,
    }


def rewards_available(today: date | None = None):
    today = today or timezone.localdate()
    return Reward.objects.filter(active=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
