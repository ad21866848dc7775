"""Importing interactions (C2 history from another system) onto existing customers.

Each row names its customer by phone, e-mail or the external ID of an earlier customer
import, and only customers the importing user can see are found. A row's key is its
customer, kind, time and summary, so re-importing the file adds nothing twice. The
customer's last contact moves forward when an imported touch is newer; follow-up
schedules are left as they are (an old history should not reschedule today's work).
"""

import hashlib

from django.db import connection
from django.utils.translation import gettext as _

from guanxi.core.models import User
from guanxi.core.validation import column_limit
from guanxi.core.visibility import customer_visibility_q
from guanxi.customers.keys import fold
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.interactions.models import Interaction
from guanxi.interactions.permissions import can_log_contact

from . import clean
from .clean import CellError
from .models import ImportKey
from .parser import UnreadableCell
from .runner import ImportConfigError, ImportRun, unreadable_cell


class InteractionImport(ImportRun):
    def prepare(self) -> None:
        self.columns = self._columns()
        targets = {t for _i, t, _h in self.columns}
        if not targets & {"customer_phone", "customer_email", "customer_ref"}:
            raise ImportConfigError(
                _("Map a column that names the customer (phone, e-mail or ID).")
            )
        if "summary" not in targets:
            raise ImportConfigError(_("No column is mapped to Summary."))
        self.kind_clean = clean.choice_cleaner(
            Interaction.Kind.choices, clean.INTERACTION_KIND_WORDS, _("kind of contact")
        )
        self.outcome_clean = clean.choice_cleaner(
            Interaction.Outcome.choices, clean.OUTCOME_WORDS, _("outcome")
        )
        staff = User.objects.filter(is_active=True).values("id", "username", "display_name")
        self.staff: dict[str, set[int]] = {}
        for person in staff:
            for word in (person["username"], person["display_name"]):
                if word:
                    self.staff.setdefault(fold(word).lower(), set()).add(person["id"])
        self.summary_limit = column_limit(Interaction, "summary")
        self.next_step_limit = column_limit(Interaction, "next_step")
        self.seen: dict[int, int] = {}

    def clean_row(self, line: int, cells: list) -> dict | None:
        row: dict = {"phones": []}
        bad = False
        for index, target, header in self.columns:
            value = cells[index] if index < len(cells) else None
            try:
                if value.__class__ is UnreadableCell or (
                    value is None and self.job.file_format == "csv"
                ):
                    raise unreadable_cell(value, len(cells))
                if target == "customer_phone":
                    row["phones"].extend(p.e164 for p in clean.clean_phones(value))
                elif target == "customer_email":
                    if email := clean.clean_email(value):
                        row["email"] = email
                elif target == "customer_ref":
                    if text := clean.cell_str(value):
                        row["ref"] = text
                elif target == "kind":
                    if (kind := self.kind_clean(value)) is not None:
                        row["kind"] = kind
                elif target == "outcome":
                    if (outcome := self.outcome_clean(value)) is not None:
                        row["outcome"] = outcome
                elif target == "occurred_at":
                    if moment := clean.clean_datetime(value):
                        row["occurred_at"] = moment
                elif target == "summary":
                    text = str(value).strip() if value is not None else ""
                    row["summary"] = clean.check_length(text, self.summary_limit)
                elif target == "next_step":
                    text = clean.cell_str(value)
                    if text:
                        row["next_step"] = clean.check_length(text, self.next_step_limit)
                elif target == "actor":
                    text = clean.cell_str(value).lower()
                    if text:
                        ids = self.staff.get(text, set())
                        if len(ids) != 1:
                            raise CellError(
                                "invalid_user",
                                _("“%(raw)s” is not one active user.")
                                % {"raw": clean.cell_str(value)},
                            )
                        row["actor_id"] = next(iter(ids))
            except CellError as exc:
                self.error(line, header, value, exc.code, exc.message)
                bad = True
        if bad:
            return None
        if not row.get("summary"):
            self.error(line, _("Summary"), "", "required", _("The summary is missing."))
            return None
        if not (row["phones"] or row.get("email") or row.get("ref")):
            self.error(line, _("Customer"), "", "required", _("The row names no customer."))
            return None
        if "occurred_at" not in row:
            self.error(line, _("When"), "", "required", _("The date is missing."))
            return None
        row.setdefault("kind", Interaction.Kind.NOTE)
        content = repr(sorted((k, str(v)) for k, v in row.items()))
        row["digest"] = int.from_bytes(
            hashlib.blake2b(content.encode(), digest_size=8).digest(), "big"
        )
        return row

    def first_occurrence(self, line: int, row: dict) -> bool:
        first = self.seen.setdefault(row["digest"], line)
        if first != line:
            self.error(
                line,
                _("Row"),
                row["summary"][:40],
                "duplicate_in_file",
                _("Same as line %(line)s.") % {"line": first},
            )
            return False
        return True

    def write_batch(self, rows) -> None:
        visible = Customer.objects.filter(customer_visibility_q(self.actor))
        phones = {p for _l, r in rows for p in r["phones"]}
        emails = {r["email"] for _l, r in rows if "email" in r}
        refs = {"c:ext:" + r["ref"] for _l, r in rows if "ref" in r}
        by_phone = dict(
            CustomerPhone.objects.filter(number__in=phones, customer__in=visible).values_list(
                "number", "customer_id"
            )
        )
        by_email = {
            key: cid
            for key, cid, merged_into in visible.filter(email_key__in=emails).values_list(
                "email_key", "id", "merged_into_id"
            )
            if merged_into is None
        }
        by_ref = dict(
            ImportKey.objects.filter(key__in=refs, customer__in=visible).values_list(
                "key", "customer_id"
            )
        )
        may_log = can_log_contact(self.actor)
        matched = []
        for line, row in rows:
            ids = {by_phone[p] for p in row["phones"] if p in by_phone}
            if row.get("email") in by_email:
                ids.add(by_email[row["email"]])
            if "ref" in row and "c:ext:" + row["ref"] in by_ref:
                ids.add(by_ref["c:ext:" + row["ref"]])
            if len(ids) != 1:
                self.error(
                    line,
                    _("Customer"),
                    row["phones"][0] if row["phones"] else row.get("email") or row.get("ref"),
                    "no_customer" if not ids else "ambiguous",
                    _("No customer you can see has this phone, e-mail or ID.")
                    if not ids
                    else _("The row matches several customers."),
                )
                continue
            if not may_log:
                self.error(line, _("Row"), "", "forbidden", _("Your role does not log contacts."))
                continue
            cid = ids.pop()
            key = (
                "i:"
                + hashlib.sha1(
                    f"{cid}|{row['kind']}|{row['occurred_at'].isoformat()}|{row['summary']}".encode()
                ).hexdigest()
            )
            matched.append((line, row, cid, key))
        if self.error_lines and not self.skip_bad:
            return
        done = set(
            ImportKey.objects.filter(key__in=[m[3] for m in matched]).values_list("key", flat=True)
        )
        fresh = [m for m in matched if m[3] not in done]
        self.counts["skipped"] += len(matched) - len(fresh)
        created = Interaction.objects.bulk_create(
            Interaction(
                customer_id=cid,
                actor_id=row.get("actor_id") or self.actor.id,
                kind=row["kind"],
                occurred_at=row["occurred_at"],
                outcome=row.get("outcome", ""),
                summary=row["summary"],
                next_step=row.get("next_step", ""),
            )
            for _line, row, cid, _key in fresh
        )
        ImportKey.objects.bulk_create(
            ImportKey(key=key, customer_id=cid, object_id=obj.pk, job_id=self.job.pk, line=line)
            for (line, _row, cid, key), obj in zip(fresh, created, strict=True)
        )
        latest: dict[int, object] = {}
        for _line, row, cid, _key in fresh:
            if row["kind"] not in Interaction.NOT_CONTACT:
                moment = row["occurred_at"]
                if cid not in latest or moment > latest[cid]:
                    latest[cid] = moment
        field = Customer._meta.get_field("last_contact_at")
        table = connection.ops.quote_name(Customer._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET last_contact_at = %s WHERE id = %s "
                "AND (last_contact_at IS NULL OR last_contact_at < %s)",
                [
                    (
                        field.get_db_prep_save(m, connection),
                        cid,
                        field.get_db_prep_save(m, connection),
                    )
                    for cid, m in latest.items()
                ],
            )
        self.counts["created"] += len(fresh)
