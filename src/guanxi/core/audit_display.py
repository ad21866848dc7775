"""The audit trail as people read it: "负责人：张伟 → 李娜", not `owner_id: [4, 3]`.

An audit entry stores a verb code ("customer.reassign") and raw changes ({field: [old, new]},
ids, codes, decimal strings). This module turns them into the reader's language: a label
for the action, the field's label (from the target model's verbose_name, or the labels
below), and values formatted for people — the name behind a user or customer id, the label
of a choice, ¥2,670,000.00 for money, a local date for a timestamp.

Apps that add verbs or fields register them in their AppConfig.ready():
`register_audit_verb("ticket.close", _("Ticket closed"))`,
`register_audit_field("sla_hours", _("SLA (hours)"))`.
Only strings cross the layers here (model labels are looked up through the app registry),
so core imports nothing from the apps above it.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from .formatting import grouped, local_date, money
from .models import OrgUnit, Role, User
from .visibility import customer_visibility_q
from .webhooks import event_label

_VERBS: dict[str, str | Promise] = {
    "customer.create": gettext_lazy("Customer created"),
    "customer.update": gettext_lazy("Customer changed"),
    "customer.archive": gettext_lazy("Customer archived"),
    "customer.restore": gettext_lazy("Customer restored"),
    "customer.merge": gettext_lazy("Another record merged in"),
    "customer.merged_into": gettext_lazy("Merged into another record"),
    "customer.reveal": gettext_lazy("Masked field revealed"),
    "customer.reassign": gettext_lazy("Owner changed"),
    "customer.share": gettext_lazy("Customer shared"),
    "customer.unshare": gettext_lazy("Sharing removed"),
    "customer.household_link": gettext_lazy("Household linked"),
    "customer.contact_add": gettext_lazy("Contact person added"),
    "customer.date_add": gettext_lazy("Important date added"),
    "customer.follow_up_set": gettext_lazy("Follow-up rescheduled"),
    "customer.to_pool": gettext_lazy("Customer moved to the public pool"),
    "customer.pool_claim": gettext_lazy("Customer claimed from the public pool"),
    "customers.redistribute": gettext_lazy("Customers redistributed"),
    "visit.register": gettext_lazy("Visit or call registered"),
    "visit.receive": gettext_lazy("Visitor received"),
    "dispute.open": gettext_lazy("Ownership dispute opened"),
    "dispute.decide": gettext_lazy("Ownership dispute decided"),
    "roster.set": gettext_lazy("Duty roster set"),
    "roster.state": gettext_lazy("Duty roster changed"),
    "roster.event_mode": gettext_lazy("Event mode switched"),
    "reception.settings": gettext_lazy("Reception settings changed"),
    "product.create": gettext_lazy("Product created"),
    "units.create": gettext_lazy("Units added"),
    "deal.create": gettext_lazy("Deal created"),
    "deal.stage": gettext_lazy("Deal stage changed"),
    "quote.issue": gettext_lazy("Quote issued"),
    "quote.approve": gettext_lazy("Discount approved"),
    "quote.reject": gettext_lazy("Discount rejected"),
    "payment.record": gettext_lazy("Payment recorded"),
    "order.create": gettext_lazy("Order created"),
    "order.ship": gettext_lazy("Order shipped"),
    "order.deliver": gettext_lazy("Order delivered"),
    "deal.unit_change.approve": gettext_lazy("Unit change approved"),
    "deal.unit_change.reject": gettext_lazy("Unit change rejected"),
    "deal.name_change.approve": gettext_lazy("Name change approved"),
    "deal.name_change.reject": gettext_lazy("Name change rejected"),
    "deal.refund.approve": gettext_lazy("Refund approved"),
    "deal.refund.reject": gettext_lazy("Refund rejected"),
    "cadence.update": gettext_lazy("Cadence rule changed"),
    "user.create": gettext_lazy("User created"),
    "user.update": gettext_lazy("User changed"),
    "user.activate": gettext_lazy("User activated"),
    "user.deactivate": gettext_lazy("User deactivated"),
    "token.create": gettext_lazy("API token created"),
    "token.revoke": gettext_lazy("API token revoked"),
    "webhook.create": gettext_lazy("Webhook created"),
    "webhook.activate": gettext_lazy("Webhook switched on"),
    "webhook.deactivate": gettext_lazy("Webhook switched off"),
    "webhook.replay": gettext_lazy("Webhook delivery sent again"),
    "import.customers": gettext_lazy("Customers imported"),
    "import.interactions": gettext_lazy("Interactions imported"),
}

# Fields whose names are not model fields of the target, or whose label should differ.
_FIELDS: dict[str, str | Promise] = {
    "owner_id": gettext_lazy("owner"),
    "owner": gettext_lazy("owner"),
    "amount": gettext_lazy("amount"),
    "price": gettext_lazy("price"),
    "total": gettext_lazy("total"),
    "receipt": gettext_lazy("receipt number"),
    "product": gettext_lazy("product"),
    "discount_pct": gettext_lazy("discount"),
    "shared_with": gettext_lazy("shared with"),
    "visit": gettext_lazy("visit"),
    "kind": gettext_lazy("kind"),
    "receiver": gettext_lazy("received by"),
    "case": gettext_lazy("rule applied"),
    "credit": gettext_lazy("credited to"),
    "split": gettext_lazy("commission split"),
    "to": gettext_lazy("moved to"),
    "method": gettext_lazy("how"),
    "order": gettext_lazy("order of duty"),
    "event_mode": gettext_lazy("event mode"),
    "member": gettext_lazy("household member"),
    "moved": gettext_lazy("moved"),
    "contact": gettext_lazy("contact person"),
    "date": gettext_lazy("important date"),
    "merged": gettext_lazy("merged record"),
    "merged_into": gettext_lazy("merged into"),
    "filled": gettext_lazy("filled in"),
    "next_follow_up_at": gettext_lazy("next follow-up"),
    "roles": gettext_lazy("roles"),
    "org_unit": gettext_lazy("organisation unit"),
    "url": gettext_lazy("address"),
    "events": gettext_lazy("events"),
    "delivery": gettext_lazy("delivery"),
    "units": gettext_lazy("units"),
    "field": gettext_lazy("field"),
    "phones": gettext_lazy("phone numbers"),
    "tags": gettext_lazy("tags"),
    "rows": gettext_lazy("rows"),
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "unchanged": gettext_lazy("unchanged"),
    "skipped": gettext_lazy("skipped"),
    "errors": gettext_lazy("errors"),
    "sha256": gettext_lazy("file fingerprint"),
}

# Labels for one model's field where its verbose_name would mislead in an audit line.
_MODEL_FIELDS: dict[tuple[str, str], str | Promise] = {
    ("sales.deal", "stage"): pgettext_lazy("deal", "sales stage"),
}

# Values that are ids of people or customers, by field name.
_USER_FIELDS = {
    "owner_id",
    "owner",
    "receiver",
    "credit",
    "credit_holder",
    "credit_holder_id",
    "actor",
    "salesperson",
}
# Values that are ids of organisation units.
_UNIT_FIELDS = {"org_unit", "org_unit_id", "branch", "branch_id"}
_CUSTOMER_FIELDS = {"member", "merged", "merged_into"}
_MONEY_FIELDS = {
    "amount",
    "price",
    "total",
    "list_price",
    "paid_amount",
    "annual_income",
    "fee",
    "name_change_fee",
}
# Fields whose values are lists or mappings of user ids (redistribution, roster, split).
_USER_LIST_FIELDS = {"order"}
_USER_MAP_FIELDS = {"to", "split"}
# Values that are choices of another model than the entry's target: (verb, field) → field.
_VALUE_FIELDS = {
    ("visit.register", "kind"): ("reception.visit", "kind"),
    ("roster.state", "*"): ("reception.dutyslot", "state"),
}
_VALUE_LABELS: dict[str, dict[str, str | Promise]] = {
    "method": {"even": gettext_lazy("evenly"), "random": gettext_lazy("at random")},
}


def register_audit_verb(verb: str, label: str | Promise) -> None:
    _VERBS[verb] = label


def register_audit_values(name: str, labels: dict[str, str | Promise]) -> None:
    """Labels of a field's stored codes (a reason, a channel), from the app that owns them."""
    _VALUE_LABELS[name] = {**_VALUE_LABELS.get(name, {}), **labels}


def verb_choices() -> list[tuple[str, str]]:
    """(verb, label) for the audit log's action filter, in the reader's language."""
    return sorted(((v, str(label)) for v, label in _VERBS.items()), key=lambda c: c[1])


def register_audit_field(name: str, label: str | Promise, *, kind: str = "") -> None:
    """A field label; `kind` "money", "user" or "customer" formats its values as such."""
    _FIELDS[name] = label
    {"money": _MONEY_FIELDS, "user": _USER_FIELDS, "customer": _CUSTOMER_FIELDS}.get(
        kind, set()
    ).add(name)


@dataclass
class ChangeLine:
    label: str
    old: str = ""
    new: str = ""
    is_pair: bool = True

    def __str__(self) -> str:
        if not self.is_pair:
            return f"{self.label}：{self.new}"
        if self.old and self.old != "—":
            return f"{self.label}：{self.old} → {self.new}"
        return f"{self.label}：{self.new}"


@dataclass
class DescribedEntry:
    action: str
    lines: list[ChangeLine] = field(default_factory=list)
    note: str = ""


def verb_label(verb: str, target_type: str = "") -> str:
    if verb in _VERBS:
        return str(_VERBS[verb])
    # An unregistered verb still reads as words: "<record kind> changed".
    model = _model(target_type)
    if model is not None:
        record = str(model._meta.verbose_name)
        return _("%(record)s: recorded change") % {"record": record[:1].upper() + record[1:]}
    return _("Recorded change")


def _model(target_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(target_type) if target_type else None
    except (LookupError, ValueError):
        return None


def _model_field(model, name: str):
    if model is None:
        return None
    for candidate in (name, name[:-3] if name.endswith("_id") else None):
        if not candidate:
            continue
        try:
            return model._meta.get_field(candidate)
        except FieldDoesNotExist:
            continue
    return None


def field_label(name: str, model=None) -> str:
    label = _MODEL_FIELDS.get((model._meta.label_lower, name)) if model is not None else None
    model_field = _model_field(model, name) if label is None else None
    if model_field is not None:
        label = getattr(model_field, "verbose_name", None)
    if name in _FIELDS and (label is None or name.endswith("_id")):
        label = _FIELDS[name]
    if label is None:
        # Never a code: a field nobody labelled reads as words ("event_mode" → "event mode").
        label = re.sub(r"[_.]+", " ", name).strip()
    text = str(label)
    return text[:1].upper() + text[1:] if text.isascii() else text


class _Names:
    """Names behind the ids on one page of entries, loaded in two queries at most."""

    def __init__(self, viewer: "User | None" = None) -> None:
        self.viewer = viewer
        self.user_ids: set[int] = set()
        self.customer_ids: set[int] = set()
        self.users: dict[int, str] = {}
        self.customers: dict[int, str] = {}
        self.units: dict[int, str] | None = None

    def want(self, kind: str, value) -> None:
        ids = self.user_ids if kind == "user" else self.customer_ids
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, int) and not isinstance(item, bool):
                ids.add(item)
            elif isinstance(item, str) and item.isdigit():
                ids.add(int(item))

    def load(self) -> None:
        if self.user_ids:
            self.users = {u.pk: str(u) for u in User.objects.filter(pk__in=self.user_ids)}
        if self.customer_ids:
            customer = _model("customers.customer")
            if customer is not None:
                # A customer's name only where the reader may see that customer.
                found = customer._default_manager.filter(pk__in=self.customer_ids)
                if self.viewer is not None:
                    found = found.filter(customer_visibility_q(self.viewer))
                else:
                    found = found.none()
                self.customers = dict(found.values_list("pk", "name"))

    def user(self, value) -> str:
        return self._name(self.users, value)

    def unit(self, value) -> str:
        """Organisation units are few: all their names are read once, when first needed."""
        if self.units is None:
            self.units = dict(OrgUnit.objects.values_list("pk", "name"))
        return self._name(self.units, value)

    def customer(self, value) -> str:
        return self._name(self.customers, value)

    @staticmethod
    def _name(names: dict[int, str], value) -> str:
        if value is None or value == "":
            return "—"
        key = int(value) if isinstance(value, str) and value.isdigit() else value
        return names.get(key) or _("#%(id)s") % {"id": value}


def _pairs(changes) -> list[tuple[str, object, object, bool]]:
    """(name, old, new, is_pair) for each change, whatever shape the service stored."""
    out: list[tuple[str, object, object, bool]] = []
    if not isinstance(changes, dict):
        return out
    for name, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            out.append((name, value[0], value[1], True))
        else:
            out.append((name, None, value, False))
    return out


def _choice_label(model_field, value) -> str | None:
    choices = getattr(model_field, "flatchoices", None) or []
    for key, label in choices:
        if str(key) == str(value):
            return str(label)
    return None


def _stage_label(value) -> str | None:
    stage = _model("sales.pipelinestage")
    if stage is None:
        return None
    for key, label in getattr(stage, "Code").choices:  # noqa: B009 (a model class read by name)
        if key == value:
            return str(label)
    return None


def _format(name: str, value, model, names: _Names, verb: str = "") -> str:
    other = _VALUE_FIELDS.get((verb, name)) or _VALUE_FIELDS.get((verb, "*"))
    if other is not None and value not in (None, ""):
        label = _choice_label(_model_field(_model(other[0]), other[1]), value)
        if label is not None:
            return label
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name in _USER_FIELDS:
        return names.user(value)
    if name in _UNIT_FIELDS:
        return names.unit(value)
    if name in _CUSTOMER_FIELDS:
        return names.customer(value)
    if name in _USER_LIST_FIELDS and isinstance(value, list):
        return " → ".join(names.user(v) for v in value)
    if name in _USER_MAP_FIELDS and isinstance(value, dict):
        unit = "%" if name == "split" else ""
        return "、".join(f"{names.user(k)} {grouped(v)}{unit}" for k, v in value.items())
    if name in _MONEY_FIELDS:
        return money(value)
    if name == "discount_pct":
        return f"{value}%"
    if name in _VALUE_LABELS and str(value) in _VALUE_LABELS[name]:
        return str(_VALUE_LABELS[name][str(value)])
    if name == "stage":
        label = _stage_label(value)
        if label:
            return label
    if name == "roles" and isinstance(value, list):
        return "、".join(str(dict(Role.choices).get(v, v)) for v in value)
    if name == "field" and isinstance(value, str):
        return field_label(value, model)
    if name == "events" and isinstance(value, list):
        return "、".join(event_label(v) for v in value)
    model_field = _model_field(model, name)
    if model_field is not None:
        label = _choice_label(model_field, value)
        if label is not None:
            return label
        if isinstance(model_field, models.DecimalField) and model_field.decimal_places == 2:
            return money(value) if model_field.max_digits >= 12 else grouped(value)
    if isinstance(value, list):
        return "、".join(_format(name, v, model, names) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(
            f"{field_label(k, model)}：{_format(k, v, model, names)}" for k, v in value.items()
        )
    if isinstance(value, int | float):
        return grouped(value)
    if isinstance(value, str):
        when = _as_datetime(value)
        if when is not None:
            return local_date(when, "SHORT_DATETIME_FORMAT")
        if value == "None":
            return "—"
    return str(value)


def _as_datetime(value: str) -> datetime | None:
    if len(value) < 16 or not value[:4].isdigit() or value[4] != "-":
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


# Keys whose values are internal detail (merge bookkeeping), not something a reader needs.
_HIDDEN = {"moved", "filled", "sha256"}


def describe_entries(entries, *, viewer) -> list:
    """Set `entry.described` (a DescribedEntry) on each entry; returns the entries.

    Customers named in the changes (a household member, a merged record) are named only
    when `viewer` may see them; otherwise their number stands in."""
    entries = list(entries)
    names = _Names(viewer)
    for entry in entries:
        for name, old, new, _pair in _pairs(entry.changes):
            for kind, fields in (("user", _USER_FIELDS), ("customer", _CUSTOMER_FIELDS)):
                if name in fields:
                    names.want(kind, old)
                    names.want(kind, new)
            if name in _USER_LIST_FIELDS and isinstance(new, list):
                names.want("user", new)
            if name in _USER_MAP_FIELDS and isinstance(new, dict):
                names.want("user", list(new))
    names.load()
    for entry in entries:
        model = _model(entry.target_type)
        lines = []
        for name, old, new, pair in _pairs(entry.changes):
            if name in _HIDDEN:
                continue
            label = field_label(name, model)
            if entry.verb == "roster.state":
                # {"张伟": ["on_duty", "away"]}: the key is a person, the values states.
                label = name
            lines.append(
                ChangeLine(
                    label=label,
                    old=_format(name, old, model, names, entry.verb) if pair else "",
                    new=_format(name, new, model, names, entry.verb),
                    is_pair=pair,
                )
            )
        entry.described = DescribedEntry(
            action=verb_label(entry.verb, entry.target_type),
            lines=lines,
            # Services store rule explanations as source-language messages (reception's
            # "New customer: received in turn; …"): shown in the reader's language. A note
            # someone typed is not in the catalogue and comes back unchanged.
            note=_(entry.note) if entry.note else "",
        )
    return entries


def describe_entry(entry, *, viewer) -> DescribedEntry:
    return describe_entries([entry], viewer=viewer)[0].described
