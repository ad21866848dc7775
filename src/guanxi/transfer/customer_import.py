"""Running an import job: rows are checked and written as the file is read.

- Reading and checking. The file is read in chunks of BATCH rows; each row is parsed and
  cleaned (phones, e-mails, dates, choices, lengths). Cleaning touches no database, so for
  big files it runs in forked checking processes (one per CPU) while this process writes:
  on a 2-core machine checking and writing overlap instead of following each other.
  Duplicates inside the file (same phone, e-mail, external ID or the same content twice)
  are caught here, in file order, so the first occurrence always wins. Each bad row goes
  to the error report with its line number and reason.
- Writing, batch by batch. Each batch is matched against the database by import key, phone
  and e-mail, in three queries; matches are updated or skipped as the user chose (never
  reassigned); new customers are inserted with bulk.Inserter.
  All-or-nothing (the default): one transaction around everything. Once a row is bad no
  further batch is written, the rest of the file is still checked so the report is
  complete, and the transaction is rolled back: nothing is written, and a crash or a kill
  half way leaves nothing either. A big load into a smaller table rebuilds the secondary
  indexes once at the end, inside that transaction (core.bulkload).
  "Skip bad rows": one transaction per batch; a re-run matches the rows already written (by
  import key) instead of duplicating them.

The job row records the outcome; a small progress file beside the upload reports progress
while the (invisible) transaction runs. One audit entry sums the job up.
"""

import contextlib
import hashlib
import itertools
import pickle
import re
import time
from functools import partial
from pathlib import Path
from typing import IO

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.bulkload import (
    build_indexes,
    drop_indexes,
    load_cache,
    worth_deferring,
)
from guanxi.core.models import OrgUnit, Role, User
from guanxi.customers.keys import email_key, fold
from guanxi.customers.models import Customer, CustomerPhone, Segment, Tag
from guanxi.customers.search_index import index_customers
from guanxi.customers.services import (
    load_batch_forget,
    load_batch_open,
    load_batch_publish,
    load_batches_unpublished,
)
from guanxi.reception.models import DutyRoster

from . import clean
from .bulk import Inserter, allocate_ids, delete_rows, lookup, update_rows
from .clean import CellError
from .interactions import InteractionImport
from .models import ImportJob, ImportKey
from .parser import UnreadableCell
from .permissions import may_update_customer, owner_units
from .runner import (
    INDEX_CHUNK,
    STEP_PAUSE,
    ImportConfigError,
    ImportRun,
    import_dir,
    retrying_when_locked,
    unreadable_cell,
)

# Text columns a row may set on a customer, with the model's length limits.
TEXT_FIELDS = (
    "wechat_id",
    "id_number",
    "province",
    "city",
    "district",
    "address",
    "company",
    "title",
    "notes",
)
MAX_PHONES = 5
MAX_TAGS = 20
TAG_SPLIT = re.compile(r"[,，;；、/|]+")


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def _concrete(name: str) -> Field:
    field = Customer._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _max_length(name: str) -> int:
    limit = _concrete(name).max_length
    assert limit is not None, f"{name} has no length limit for the importer to check"
    return limit


# ---- customers --------------------------------------------------------------------------------


def eligible_owners(actor: User):
    """Who an import by `actor` may make owner: active salespeople and managers in the
    actor's scope (every one, for an admin)."""
    users = User.objects.filter(
        is_active=True, roles__role__in=[Role.SALES, Role.MANAGER], org_unit__isnull=False
    ).distinct()
    units = owner_units(actor)
    if units is not None:
        users = users.filter(org_unit_id__in=units)
    return users


def rotation_owners(actor: User, branch_id: int | None = None) -> list[User]:
    """Round-robin order for "by rotation": today's reception roster of the branch when the
    reception app has one (its queue order), else the branch's active salespeople by name."""

    unit = OrgUnit.objects.filter(pk=branch_id).first() if branch_id else actor.org_unit
    if unit is None:
        return []
    branch = unit.branch()
    eligible = eligible_owners(actor).filter(org_unit_id__in=branch.subtree_ids())
    eligible = eligible.filter(roles__role=Role.SALES).distinct()
    ids = set(eligible.values_list("id", flat=True))
    with contextlib.suppress(LookupError, ImportError):
        from django.apps import apps

        if apps.is_installed("guanxi.reception"):
            roster = DutyRoster.objects.filter(branch=branch, date=timezone.localdate()).first()
            if roster:
                ordered = [
                    s.salesperson
                    for s in roster.slots.select_related("salesperson").order_by("position")
                    if s.salesperson_id in ids
                ]
                if ordered:
                    return ordered
    return list(eligible.order_by("display_name", "username"))


# Defaults of a new customer's row, looked up once (an enum member's .value is a descriptor).
PERSON = Customer.Kind.PERSON.value
OTHER_SOURCE = Customer.Source.OTHER.value
POTENTIAL = Customer.Stage.POTENTIAL.value


class CustomerImport(ImportRun):
    # Fields a matched customer takes from the row in "update" mode (never owner or unit).
    UPDATABLE = (
        "kind",
        "name",
        "gender",
        "birthday",
        "wechat_id",
        "id_number",
        "annual_income",
        "province",
        "city",
        "district",
        "address",
        "company",
        "title",
        "segment_id",
        "source",
        "notes",
        "stage",
    )
    # Columns a new customer's row sets: first those this process fills in, then the
    # ROW_COLUMNS a checking process prepares (`row["values"]`, already as stored).
    WRITER_COLUMNS = (
        "id",
        "owner_id",
        "org_unit_id",
        "created_by_id",
        "created_at",
        "updated_at",
        "load_batch",
    )
    ROW_COLUMNS = (
        *UPDATABLE,
        "email",
        "name_pinyin",
        "name_initials",
        "company_key",
        "email_key",
        "primary_phone",
    )
    # What matching and inserting read of a cleaned row.
    INSERT_KEYS = ("name", "phones", "email", "key", "values", "same", "tags", "owner_id")

    def prepare(self) -> None:
        actor = self.actor
        self.columns = self._columns()
        self.short_rows_bad = self.job.file_format == "csv"
        if not any(target == "name" for _i, target, _h in self.columns):
            raise ImportConfigError(_("No column is mapped to Name."))
        limits: dict[str, int] = {f: _max_length(f) for f in TEXT_FIELDS}
        limits["name"] = _max_length("name")
        self.limits = limits
        segments = {}
        for seg in Segment.objects.all():
            for word in (seg.code, seg.name_zh, seg.name_en):
                segments[fold(word).lower()] = seg.pk
        self.segments = segments
        self.choices = {
            "gender": clean.choice_cleaner(
                Customer.Gender.choices, clean.GENDER_WORDS, _("gender")
            ),
            "kind": clean.choice_cleaner(Customer.Kind.choices, clean.KIND_WORDS, _("kind")),
            "source": clean.choice_cleaner(
                Customer.Source.choices, clean.SOURCE_WORDS, _("source")
            ),
            "stage": clean.choice_cleaner(Customer.Stage.choices, clean.STAGE_WORDS, _("stage")),
        }
        owners = list(
            eligible_owners(actor).values("id", "username", "display_name", "org_unit_id")
        )
        self.owner_units = {o["id"]: o["org_unit_id"] for o in owners}
        by_name: dict[str, set[int]] = {}
        for o in owners:
            for word in (o["username"], o["display_name"]):
                if word:
                    by_name.setdefault(fold(word).lower(), set()).add(o["id"])
        self.owner_names = by_name
        mode = self.options["owner_mode"]
        self.default_owner = None
        if self.options.get("owner_id"):
            owner_id = int(self.options["owner_id"])
            if owner_id not in self.owner_units:
                raise ImportConfigError(
                    _("The chosen owner is not someone you may assign customers to.")
                )
            self.default_owner = owner_id
        self.rotation: list[int] = []
        if mode == "rotation":
            self.rotation = [u.id for u in rotation_owners(actor, self.options.get("branch_id"))]
            for u in User.objects.filter(pk__in=self.rotation):
                self.owner_units.setdefault(u.id, u.org_unit_id)
            if not self.rotation:
                raise ImportConfigError(_("Nobody is available for rotation in this branch."))
        self._rotation = itertools.cycle(self.rotation) if self.rotation else None
        needs_unit = mode == "none" or (mode == "column" and self.default_owner is None)
        if needs_unit and actor.org_unit_id is None:
            raise ImportConfigError(_("You have no organisation unit: choose an owner."))
        self.seen: tuple[dict[int, int], ...] = ({}, {}, {})  # by phone, e-mail, row key
        self.inserter = Inserter(Customer, self.WRITER_COLUMNS + self.ROW_COLUMNS, with_pk=True)
        self.income_field = Customer._meta.get_field("annual_income")
        self.dates_as_text = connection.vendor == "sqlite"  # what adapt_datefield_value does
        self.known: _Known | None = None
        self.phone_inserter = Inserter(
            CustomerPhone,
            ("customer_id", "number", "national", "last4", "is_primary", "extension"),
        )
        self.key_inserter = Inserter(ImportKey, ("key", "customer_id", "job_id", "line"))
        self.tag_ids: dict[str, int] = {}
        self.today = timezone.localdate()
        self.load_batch: int | None = None
        self._spool: IO[bytes] | None = None
        self._unindexed: list[int] = []  # a hidden load's rows not yet in the search index

    def clean_row(self, line: int, cells: list) -> dict | None:
        row: dict = {}
        phones: list = []
        bad = False
        width = len(cells)
        for index, target, header in self.columns:
            value = cells[index] if index < width else None
            try:
                if value.__class__ is UnreadableCell or (value is None and self.short_rows_bad):
                    raise unreadable_cell(value, width)
                if target == "phone":
                    phones.extend(clean.clean_phones(value))
                elif target == "name":
                    row["name"] = clean.check_length(clean.cell_str(value), self.limits["name"])
                elif target in self.limits:
                    text = (
                        str(value).strip() if target == "notes" and value else clean.cell_str(value)
                    )
                    if text:
                        row[target] = clean.check_length(text, self.limits[target])
                elif target == "email":
                    if email := clean.clean_email(value):
                        row["email"] = email
                elif target == "birthday":
                    if day := clean.clean_birthday(value, self.today):
                        row["birthday"] = day
                elif target in self.choices:
                    choice = self.choices[target](value)
                    if choice is not None:
                        row[target] = choice
                elif target == "segment":
                    text = clean.cell_str(value).lower()
                    if text:
                        if text not in self.segments:
                            raise CellError(
                                "invalid_choice",
                                _("“%(raw)s” is not a known segment.")
                                % {"raw": clean.cell_str(value)},
                            )
                        row["segment_id"] = self.segments[text]
                elif target == "tags":
                    names = [fold(t)[:40] for t in TAG_SPLIT.split(clean.cell_str(value))]
                    names = sorted({n for n in names if n})
                    if len(names) > MAX_TAGS:
                        raise CellError("too_many", _("At most %d tags.") % MAX_TAGS)
                    if names:
                        row["tags"] = names
                elif target == "owner":
                    text = clean.cell_str(value).lower()
                    if text:
                        ids = self.owner_names.get(text, set())
                        if len(ids) != 1:
                            raise CellError(
                                "invalid_owner",
                                _("“%(raw)s” is not a salesperson you may assign customers to.")
                                % {"raw": clean.cell_str(value)}
                                if not ids
                                else _("“%(raw)s” names several people; use the username.")
                                % {"raw": clean.cell_str(value)},
                            )
                        row["owner_id"] = next(iter(ids))
                elif target == "external_id":
                    if text := clean.cell_str(value):
                        row["external_id"] = clean.check_length(text, 60)
                elif target == "annual_income":
                    amount = clean.clean_decimal(value)
                    if amount is not None:
                        row["annual_income"] = amount
            except CellError as exc:
                self.error(line, header, value, exc.code, exc.message)
                bad = True
        if not row.get("name"):
            if not bad:
                self.error(line, _("Name"), "", "required", _("The name is missing."))
            return None
        unique_phones = list(dict.fromkeys(phones))
        if len(unique_phones) > MAX_PHONES:
            self.error(line, _("Phone"), "", "too_many", _("At most %d phones.") % MAX_PHONES)
            bad = True
        if bad:
            return None
        row["phones"] = [(p.e164, p.national) for p in unique_phones]
        row["key"] = key = self._row_key(row)
        row["name_keys"] = clean.name_keys(row["name"])
        row["values"] = self._stored_values(row)
        # What makes two rows the same record, as (which, digest, shown) for first_occurrence.
        same = [
            (0, int(e164[1:]) if ";" not in e164 else _digest(e164), e164)
            for e164, _n in row["phones"]
        ]
        if "email" in row:
            same.append((1, _digest(row["email"]), row["email"]))
        same.append((2, _digest(key), row.get("external_id") or row["name"]))
        row["same"] = same
        if not self.update_duplicates:  # the rest is read by updates only: not sent back
            row = {k: row[k] for k in self.INSERT_KEYS if k in row}
        return row

    def _stored_values(self, row: dict) -> tuple:
        """The ROW_COLUMNS of a new customer from this row, as the database stores them."""
        birthday, income = row.get("birthday"), row.get("annual_income")
        company, email = row.get("company", ""), row.get("email", "")
        return (
            row.get("kind", PERSON),
            row["name"],
            row.get("gender", ""),
            birthday.isoformat() if birthday and self.dates_as_text else birthday,
            row.get("wechat_id", ""),
            row.get("id_number", ""),
            None if income is None else self.income_field.get_db_prep_save(income, connection),
            row.get("province", ""),
            row.get("city", ""),
            row.get("district", ""),
            row.get("address", ""),
            company,
            row.get("title", ""),
            row.get("segment_id"),
            row.get("source", OTHER_SOURCE),
            row.get("notes", ""),
            row.get("stage", POTENTIAL),
            email,
            *row["name_keys"],
            company.lower()[:100],
            email_key(email) if email else "",
            row["phones"][0][0] if row["phones"] else "",
        )

    def first_occurrence(self, line: int, row: dict) -> bool:
        seen, same = self.seen, row["same"]
        for which, digest, shown in same:
            first = seen[which].get(digest)
            if first is not None:
                self.error(
                    line,
                    _("Row"),
                    shown,
                    "duplicate_in_file",
                    _("Same customer as line %(line)s (%(value)s).")
                    % {"line": first, "value": shown},
                )
                return False
        for which, digest, _shown in same:
            seen[which][digest] = line
        return True

    def _row_key(self, row: dict) -> str:
        if row.get("external_id"):
            ext = row["external_id"]
            return "c:ext:" + (ext if len(ext) <= 60 else hashlib.sha1(ext.encode()).hexdigest())
        content = repr(sorted((k, v) for k, v in row.items() if k not in ("owner_id", "key")))
        return "c:row:" + hashlib.sha1(content.encode()).hexdigest()

    # ---- writing ----------------------------------------------------------------------------

    def _owner_for(self, row: dict) -> int | None:
        mode = self.options["owner_mode"]
        if mode == "column":
            return row.get("owner_id") or self.default_owner
        if mode == "fixed":
            return self.default_owner
        if mode == "rotation":
            return next(self._rotation) if self._rotation else None
        return None

    def forget_rolled_back(self) -> None:
        self.tag_ids = {}
        self.known = None  # someone else added a phone meanwhile: query from now on

    def after_step(self) -> None:
        """The search entries of a hidden load's step, in a transaction of their own: nobody
        finds those rows before the load is published (search reads through visibility), so
        the index may follow a moment later, and each step holds the write lock briefly.
        An id a rolled-back step never kept gets no entry (index_customers skips it)."""
        ids, self._unindexed = self._unindexed, []
        for start in range(0, len(ids), INDEX_CHUNK):
            chunk = ids[start : start + INDEX_CHUNK]
            retrying_when_locked(partial(index_customers, chunk))
            time.sleep(STEP_PAUSE)

    def _tag_ids(self, names: set[str]) -> dict[str, int]:
        missing = names - self.tag_ids.keys()
        if missing:
            Tag.objects.bulk_create([Tag(name=n) for n in sorted(missing)], ignore_conflicts=True)
            self.tag_ids.update(Tag.objects.filter(name__in=missing).values_list("name", "id"))
        return self.tag_ids

    # ---- all-or-nothing in short steps -------------------------------------------------------

    in_steps = True
    TABLES = (Customer._meta.db_table, CustomerPhone._meta.db_table)
    KEEP_INDEXES = ("cust_email", "cust_initials")

    def open_load(self) -> None:
        discard_leftovers()
        # One transaction: a reaper never sees the batch without the job that writes it.
        with transaction.atomic():
            self.load_batch = load_batch_open(label=f"import #{self.job.pk}")
            ImportJob.objects.filter(pk=self.job.pk).update(load_batch=self.load_batch)
        self.job.load_batch = self.load_batch

    def drop_indexes_for(self, expected_rows: int) -> list[str]:
        """A load big against the table builds the customer indexes once at the end, and
        reads which phones, e-mails and import keys exist once instead of querying for every
        batch (core.bulkload). Others may add a phone meanwhile: the batch that then hits
        the unique index is matched again with real queries (_write_batch_retrying)."""
        if not worth_deferring(expected_rows, Customer.objects.count()):
            return []
        self.known = _Known.read()
        if not self.options.get("defer_indexes"):
            # Colleagues' saves read these indexes inside their own write transactions: on a
            # big table without them each save scans it while holding the lock, and the
            # office stalls ("database is locked"). Only an import run when nobody else
            # works (option defer_indexes) drops them.
            return []

        def record(statements: list[str]) -> None:
            ImportJob.objects.filter(pk=self.job.pk).update(dropped_indexes=statements)

        # Kept: e-mails (matching reads them), phones and import keys (unique), and name
        # initials, which every colleague's save reads to find similar names (without it
        # each save would scan the growing table).
        return drop_indexes(self.TABLES, keep=self.KEEP_INDEXES, before_drop=record)

    def step_cache(self):
        return load_cache() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def _spool_write(self, updates: list, new_keys: list) -> None:
        """Updates of customers already here wait until the whole file is checked and its new
        rows written: all-or-nothing changes nobody's customer before then."""
        if self._spool is None:
            self._spool = open(import_dir() / f"job-{self.job.pk}.spool", "w+b")  # noqa: SIM115
        pickle.dump((updates, new_keys), self._spool, protocol=pickle.HIGHEST_PROTOCOL)

    def apply_spooled(self) -> None:
        if self._spool is None:
            return
        self.phase = "updating"
        self.progress(force=True)
        self._spool.seek(0)
        while True:
            try:
                updates, new_keys = pickle.load(self._spool)
            except EOFError:
                break
            with transaction.atomic():
                self._apply_updates(updates)
                index_customers(current["id"] for _l, _r, current in updates)
                self._add_keys(new_keys)
            self.progress()
            time.sleep(STEP_PAUSE)

    def close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            Path(self._spool.name).unlink(missing_ok=True)
            self._spool = None

    def publish_load(self) -> None:
        if self.load_batch is not None:
            load_batch_publish(batch_id=self.load_batch)

    def discard_load(self) -> None:
        if self.load_batch is not None:
            self.phase = "discarding"
            self.progress(force=True)
            discard_load(self.job.pk, self.load_batch)

    def _add_keys(self, new_keys: list) -> None:
        if new_keys:
            ImportKey.objects.bulk_create(
                [ImportKey(key=k, customer_id=c, job_id=j, line=n) for k, c, j, n in new_keys],
                ignore_conflicts=True,
            )

    def match_batch(self, rows: list[tuple[int, dict]]):
        """Match a batch against the database (reads only): (new rows, updates, keys)."""
        numbers = {e164 for _l, row in rows for e164, _n in row["phones"]}
        emails = {row["email"] for _l, row in rows if "email" in row}
        keys = {row["key"] for _l, row in rows}
        if self.known is not None:
            numbers, emails, keys = self.known.among(numbers, emails, keys)
        by_phone = dict(lookup(CustomerPhone, "number", "customer_id", numbers))
        by_email: dict[str, int] = {}
        # Only live records: a merged one hands its e-mail on to the record it was merged into.
        live = lookup(Customer, "email_key", ("id", "merged_into_id"), emails)
        for key, cid, merged_into in sorted(live, key=lambda row: row[1]):
            if merged_into is None:
                by_email.setdefault(key, cid)
        by_key = dict(lookup(ImportKey, "key", "customer_id", keys))
        candidate_ids = set(by_phone.values()) | set(by_email.values()) | set(by_key.values())
        existing = {}
        if candidate_ids:
            existing = self._load(candidate_ids)
            # Follow merges: a key may point at a record since merged into another.
            merged = {c["merged_into_id"] for c in existing.values() if c["merged_into_id"]}
            while merged - existing.keys():
                existing.update(self._load(merged - existing.keys()))
                merged = {c["merged_into_id"] for c in existing.values() if c["merged_into_id"]}

        def final(cid: int) -> int:
            seen = set()
            while existing.get(cid, {}).get("merged_into_id") and cid not in seen:
                seen.add(cid)
                cid = existing[cid]["merged_into_id"]
            return cid

        new_rows, updates, new_keys = [], [], []
        for line, row in rows:
            found: dict[int, list[str]] = {}
            if row["key"] in by_key:
                found.setdefault(final(by_key[row["key"]]), []).append(_("import key"))
            for e164, _n in row["phones"]:
                if e164 in by_phone:
                    found.setdefault(final(by_phone[e164]), []).append(_("phone"))
            if "email" in row and row["email"] in by_email:
                found.setdefault(final(by_email[row["email"]]), []).append(_("e-mail"))
            if not found:
                new_rows.append((line, row))
                continue
            if len(found) > 1:
                # Only records the importer may edit are named: an import is no way to learn
                # which ids hold another salesperson's phones (C8, no existence oracles).
                described = "; ".join(
                    f"#{cid} ({', '.join(reasons)})"
                    if self._can_edit(existing[cid])
                    else _("a customer of someone else (%s)") % ", ".join(reasons)
                    for cid, reasons in sorted(found.items())
                )
                self.error(
                    line,
                    _("Row"),
                    row["name"],
                    "ambiguous",
                    _("Matches several customers: %s.") % described,
                )
                continue
            cid = next(iter(found))
            if row["key"] not in by_key:
                new_keys.append((row["key"], cid, self.job.pk, line))
            if not self.update_duplicates:
                self.counts["skipped"] += 1
                continue
            current = existing[cid]
            if not self._can_edit(current):
                self.error(
                    line,
                    _("Row"),
                    row["name"],
                    "not_editable",
                    _("This customer is already registered to someone else; ask a manager."),
                )
                continue
            if current["archived_at"] is not None:
                self.error(
                    line,
                    _("Row"),
                    row["name"],
                    "archived",
                    _("Matches archived customer #%(id)s: restore it first.") % {"id": cid},
                )
                continue
            updates.append((line, row, current))
        return new_rows, updates, new_keys

    def write_batch(self, rows: list[tuple[int, dict]]) -> None:
        self.apply_batch(self.match_batch(rows))

    def apply_batch(self, plan) -> None:
        new_rows, updates, new_keys = plan
        if self.error_lines and not self.skip_bad:
            return  # all-or-nothing is already lost: only find the remaining errors
        created = self._insert_new(new_rows)
        if self.skip_bad:
            # The word and substring search index, in this batch's transaction (customers).
            index_customers(created)
        else:
            self._unindexed.extend(created)
        if self.skip_bad:
            self._apply_updates(updates)
            index_customers(current["id"] for _l, _r, current in updates)
            self._add_keys(new_keys)
        elif updates or new_keys:
            self._spool_write(updates, new_keys)

    def _load(self, ids) -> dict[int, dict]:
        fields = (
            "id",
            "owner_id",
            "org_unit_id",
            "archived_at",
            "merged_into_id",
            "email",
            "primary_phone",
            *self.UPDATABLE,
        )
        return {c["id"]: c for c in Customer.objects.filter(pk__in=ids).values(*fields)}

    def _can_edit(self, current: dict) -> bool:
        return may_update_customer(self.actor, current["owner_id"], current["org_unit_id"])

    def _insert_new(self, rows: list[tuple[int, dict]]) -> list[int]:
        if not rows:
            return []
        ids = allocate_ids(Customer, len(rows))
        prep_now = self.inserter.prep("created_at", timezone.now())
        actor_id, actor_unit, job_id = self.actor.id, self.actor.org_unit_id, self.job.pk
        batch = self.load_batch
        owner_units, owner_for = self.owner_units, self._owner_for
        customers: list = []
        phones: list = []
        keys: list = []
        tag_links: list[tuple[int, int]] = []
        tag_names = {t for _l, row in rows for t in row.get("tags", ())}
        tag_ids = self._tag_ids(tag_names) if tag_names else {}
        for cid, (line, row) in zip(ids, rows, strict=True):
            owner = owner_for(row)
            unit = owner_units.get(owner, actor_unit) if owner else actor_unit
            customers.append(
                (cid, owner, unit, actor_id, prep_now, prep_now, batch, *row["values"])
            )
            primary = True
            for e164, national in row["phones"]:
                phones.append(
                    (cid, e164, national, national[-4:], primary, e164.partition(";ext=")[2])
                )
                primary = False
            keys.append((row["key"], cid, job_id, line))
            if "tags" in row:
                tag_links.extend((cid, tag_ids[tag]) for tag in row["tags"])
        self.inserter.insert(customers)
        self.phone_inserter.insert(phones)
        self.key_inserter.insert(keys)
        if tag_links:
            Through = Customer.tags.through
            Through.objects.bulk_create(
                [Through(customer_id=c, tag_id=t) for c, t in tag_links], ignore_conflicts=True
            )
        self.counts["created"] += len(rows)
        return ids

    def _apply_updates(self, updates) -> None:
        if not updates:
            return
        now = timezone.now()
        groups: dict[tuple[str, ...], list[tuple]] = {}
        new_phones: list = []
        tag_links: list[tuple[int, int]] = []
        existing_numbers: dict = {}
        ids = [current["id"] for _l, _r, current in updates]
        for cid, number in CustomerPhone.objects.filter(customer_id__in=ids).values_list(
            "customer_id", "number"
        ):
            existing_numbers.setdefault(cid, set()).add(number)
        tag_names = {t for _l, row, _c in updates for t in row.get("tags", ())}
        tag_ids = self._tag_ids(tag_names) if tag_names else {}
        existing_tags: dict = {}
        if tag_names:
            for cid, tid in Customer.tags.through.objects.filter(customer_id__in=ids).values_list(
                "customer_id", "tag_id"
            ):
                existing_tags.setdefault(cid, set()).add(tid)
        for _line, row, current in updates:
            cid = current["id"]
            changed = {}
            for name in self.UPDATABLE:
                if name in row and row[name] != current[name]:
                    changed[name] = row[name]
            if "email" in row and row["email"] != current["email"]:
                changed["email"] = row["email"]
                changed["email_key"] = email_key(row["email"])
            if "name" in changed:
                changed["name_pinyin"], changed["name_initials"] = row["name_keys"]
            if "company" in changed:
                changed["company_key"] = changed["company"].lower()[:100]
            have = existing_numbers.get(cid, set())
            room = MAX_PHONES - len(have)
            added = [(e, n) for e, n in row["phones"] if e not in have][: max(room, 0)]
            for e164, national in added:
                primary = not current["primary_phone"] and not have
                new_phones.append(
                    CustomerPhone(
                        customer_id=cid,
                        number=e164,
                        extension=e164.partition(";ext=")[2],
                        national=national,
                        last4=national[-4:],
                        is_primary=primary,
                    )
                )
                if primary:
                    changed["primary_phone"] = e164
                have = have | {e164}
            new_tags = [
                tag_ids[t]
                for t in row.get("tags", ())
                if tag_ids[t] not in existing_tags.get(cid, set())
            ]
            tag_links.extend((cid, t) for t in new_tags)
            if not (changed or added or new_tags):
                self.counts["unchanged"] += 1
                continue
            self.counts["updated"] += 1
            changed["updated_at"] = now
            names = tuple(sorted(changed))
            fields = {n: _concrete(n) for n in names}
            groups.setdefault(names, []).append(
                (*(fields[n].get_db_prep_save(changed[n], connection) for n in names), cid)
            )
        for names, params in groups.items():
            update_rows(Customer, names, params)
        if new_phones:
            CustomerPhone.objects.bulk_create(new_phones)
        if tag_links:
            Through = Customer.tags.through
            Through.objects.bulk_create(
                [Through(customer_id=c, tag_id=t) for c, t in tag_links], ignore_conflicts=True
            )


class _Known:
    """Hashes of the phones, e-mails and import keys in the database when a big load began.
    A row none of whose values is among them cannot match (rows of the load itself cannot:
    duplicates inside the file were refused); a hash collision only costs a query."""

    def __init__(self, phones: set[int], emails: set[int], keys: set[int]):
        self.phones, self.emails, self.keys = phones, emails, keys

    @classmethod
    def read(cls) -> "_Known":
        def hashes(queryset, field: str) -> set[int]:
            return set(map(hash, queryset.values_list(field, flat=True).iterator(10_000)))

        return cls(
            hashes(CustomerPhone.objects.all(), "number"),
            hashes(Customer.objects.exclude(email_key=""), "email_key"),
            hashes(ImportKey.objects.all(), "key"),
        )

    def among(self, numbers: set[str], emails: set[str], keys: set[str]):
        return (
            {n for n in numbers if hash(n) in self.phones},
            {e for e in emails if hash(e) in self.emails},
            {k for k in keys if hash(k) in self.keys},
        )


# ---- leftovers of failed and killed loads ------------------------------------------------------

DISCARD_CHUNK = 2000


def discard_load(job_id: int | None, batch_id: int) -> int:
    """Delete the customers of an unpublished load batch, with their phones, tags and import
    keys, in short transactions (the compensating delete; nobody has seen these rows)."""

    with connection.cursor() as cursor:
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT {quote('id')} FROM {quote(Customer._meta.db_table)} "
            f"WHERE {quote('load_batch')} = %s",
            [batch_id],
        )
        ids = [row[0] for row in cursor.fetchall()]
    hidden = set(ids)
    key_ids = []
    if hidden and job_id is not None:
        key_ids = [
            pk
            for pk, cid in ImportKey.objects.filter(job_id=job_id)
            .values_list("id", "customer_id")
            .iterator(10_000)
            if cid in hidden
        ]
    for start in range(0, len(key_ids), DISCARD_CHUNK):
        with transaction.atomic():
            delete_rows(ImportKey, key_ids[start : start + DISCARD_CHUNK])
        time.sleep(STEP_PAUSE)  # the write lock left free for others, as between steps
    Through = Customer.tags.through
    for start in range(0, len(ids), DISCARD_CHUNK):
        chunk = ids[start : start + DISCARD_CHUNK]
        with transaction.atomic():
            if job_id is None:  # a batch whose job is gone: its keys found the slow way
                ImportKey.objects.filter(customer_id__in=chunk)._raw_delete(connection.alias)
            CustomerPhone.objects.filter(customer_id__in=chunk)._raw_delete(connection.alias)
            Through.objects.filter(customer_id__in=chunk)._raw_delete(connection.alias)
            delete_rows(Customer, chunk)
            index_customers(chunk)  # their search entries go with them
        time.sleep(STEP_PAUSE)
    load_batch_forget(batch_id=batch_id)
    return len(ids)


def discard_leftovers() -> int:
    """Clean up after loads that died: build the indexes a killed import dropped, delete the
    rows of every unpublished batch no live import is writing. Idempotent; run before each
    import and by the reaper (jobs.reap_dead_imports)."""

    removed = 0
    for job in ImportJob.objects.exclude(dropped_indexes=[]).exclude(
        state=ImportJob.State.IMPORTING
    ):
        build_indexes(job.dropped_indexes)
        ImportJob.objects.filter(pk=job.pk).update(dropped_indexes=[])
    writing = dict(
        ImportJob.objects.filter(
            state=ImportJob.State.IMPORTING, load_batch__isnull=False
        ).values_list("load_batch", "id")
    )
    owners = dict(
        ImportJob.objects.filter(load_batch__isnull=False).values_list("load_batch", "id")
    )
    for batch_id in load_batches_unpublished():
        if batch_id in writing:
            continue
        removed += discard_load(owners.get(batch_id), batch_id)
    return removed


def runner_for(job: ImportJob, **kwargs) -> ImportRun:
    if job.kind == ImportJob.Kind.INTERACTIONS:
        return InteractionImport(job, **kwargs)
    return CustomerImport(job, **kwargs)
