"""Every change to customer data: one transaction, a permission check and an audit entry."""

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record, diff_fields
from guanxi.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    ValidationFailed,
    full_clean_or_fail,
)
from guanxi.core.models import OrgUnit, User
from guanxi.core.validation import check_values
from guanxi.core.visibility import (
    can_create,
    can_edit,
    can_reveal,
    customer_visibility_q,
    manages,
)
from guanxi.core.webhooks import customer_payload, webhook_emit

from .hooks import run_customer_hooks
from .keys import InvalidPhone, email_key, fold, normalize_phone, pinyin_keys
from .models import (
    ContactPerson,
    Customer,
    CustomerPhone,
    CustomerShare,
    Household,
    ImportantDate,
    LoadBatch,
    Tag,
)
from .ownership import Reason, ownership_change, ownership_initial
from .permissions import can_assign_to, may_own_customers, may_receive_shares, owns_what_they_create
from .search_index import index_customer, index_customers
from .selectors import customer_get, find_duplicates

# What a user may set through the UI or the API; everything else is kept by services.
EDITABLE_FIELDS = (
    "kind",
    "name",
    "gender",
    "birthday",
    "email",
    "wechat_id",
    "id_number",
    "annual_income",
    "assets_note",
    "province",
    "city",
    "district",
    "address",
    "company",
    "title",
    "segment_id",
    "source",
    "referred_by_id",
    "notes",
    "stage",
    "relationship",
    "preferred_channel",
    "contact_window_start",
    "contact_window_end",
    "news_frequency",
    "do_not_contact",
    "consent_phone",
    "consent_sms",
    "consent_email",
    "consent_wechat",
    "consent_post",
)
# Free text that may hold line breaks; every other text field is one line (core.validation).
MULTILINE_FIELDS = ("notes", "assets_note", "address")
MAX_PHONES = 5
MAX_TAGS = 20


class SimilarCustomersFound(Conflict):
    """Raised on create when possible duplicates exist; the caller may confirm and retry."""

    def __init__(self, candidates):
        super().__init__(
            _("Possible duplicates exist. Review them, or confirm to create anyway."),
            code="possible_duplicate",
            field="name",
        )
        self.candidates = candidates

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["candidates"] = [
            {"id": c.id, "name": c.name, "reasons": self.candidates.reasons.get(c.id, [])}
            for c in self.candidates.visible
        ]
        body["hidden_candidates"] = self.candidates.hidden_count
        return body


def _editable_locked(actor: User, customer_id: int, refusal: str) -> Customer:
    """The customer, row-locked, if the actor may edit it (owner or manager, can_edit);
    `refusal` says what the actor was refused."""
    customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
    if not can_edit(actor, customer):
        raise Forbidden(refusal)
    return customer


def _normalize_phones(raw_phones: list[str]) -> list:
    phones, errors, seen = [], [], set()
    for raw in raw_phones:
        if not fold(raw):
            continue
        try:
            phone = normalize_phone(raw)
        except InvalidPhone:
            errors.append(
                FieldError(
                    "phones",
                    "invalid_phone",
                    _("“%(raw)s” is not a valid phone number.") % {"raw": raw},
                )
            )
            continue
        if phone.e164 not in seen:
            seen.add(phone.e164)
            phones.append(phone)
    if len(phones) > MAX_PHONES:
        errors.append(FieldError("phones", "too_many", _("At most %d phones.") % MAX_PHONES))
    if errors:
        raise ValidationFailed(errors)
    return phones


def _sees(actor: User | None, customer_id: int) -> bool:
    """Whether an error may name another record: only to someone who may see it (C8, no
    existence oracle); everyone else learns only that the value is taken."""
    return actor is not None and (
        Customer.objects.filter(customer_visibility_q(actor), pk=customer_id).exists()
    )


def _check_phone_owners(phones, customer_id: int | None, actor: User | None = None) -> None:
    taken = (
        CustomerPhone.objects.filter(number__in=[p.e164 for p in phones])
        .exclude(customer_id=customer_id)
        .select_related("customer")
    )
    errors = [
        FieldError(
            "phones",
            "duplicate_phone",
            _("%(phone)s already belongs to customer #%(id)s%(archived)s.")
            % {
                "phone": p.number,
                "id": p.customer_id,
                "archived": _(" (archived: restore it instead)") if p.customer.archived_at else "",
            }
            if _sees(actor, p.customer_id)
            else _("%(phone)s is already registered to another customer; ask a manager.")
            % {"phone": p.number},
        )
        for p in taken
    ]
    if errors:
        raise ValidationFailed(errors)


def _email_taken() -> ValidationFailed:
    return ValidationFailed.single(
        "email",
        "duplicate_email",
        _("This e-mail is already registered to another customer; ask a manager."),
    )


def _check_email_unique(email: str, customer_id: int | None, actor: User | None = None) -> None:
    if not email:
        return
    clash = (
        Customer.objects.filter(email_key=email_key(email), merged_into__isnull=True)
        .exclude(pk=customer_id)
        .values_list("id", flat=True)
        .first()
    )
    if clash and _sees(actor, clash):
        raise ValidationFailed.single(
            "email",
            "duplicate_email",
            _("This e-mail already belongs to customer #%(id)s.") % {"id": clash},
        )
    if clash:
        raise _email_taken()


def _check_referrer(actor: User, customer: Customer, data: dict) -> None:
    """`referred_by_id` names only a customer the actor may see: an id field is no way to
    probe or link records one cannot see (C8). The same answer whether hidden or missing."""
    referrer = data.get("referred_by_id")
    if isinstance(referrer, int) and referrer and not _sees(actor, referrer):
        raise ValidationFailed.single(
            "referred_by_id", "not_found", _("No such customer among those you can see.")
        )


def _save_or_email_taken(customer: Customer, update_fields: list[str] | None = None) -> None:
    """Save; a racing create or edit that took the e-mail first loses here, at the unique
    index `unique_live_customer_email`, and gets the same field error as the check above."""
    try:
        with transaction.atomic():
            customer.save(update_fields=update_fields)
    except IntegrityError as exc:
        clash = (
            customer.email_key
            and Customer.objects.filter(email_key=customer.email_key, merged_into__isnull=True)
            .exclude(pk=customer.pk)
            .exists()
        )
        if clash:
            raise _email_taken() from exc
        raise


def _set_search_keys(customer: Customer) -> None:
    customer.name_pinyin, customer.name_initials = pinyin_keys(customer.name)
    customer.company_key = fold(customer.company).lower()[:100]
    customer.email_key = email_key(customer.email)


# What the word and substring index holds (search_index.py): a change to one re-indexes.
_INDEXED = {"name", "company", "email", "province", "city", "district", "address", "tags"}


# Stored beside an edited field and computed from it (_apply, _set_phones).
_DERIVED = {
    "name": ("name_pinyin", "name_initials"),
    "company": ("company_key",),
    "email": ("email_key",),
    "phones": ("primary_phone",),
}


def _columns_to_save(changed, hooked) -> list[str]:
    """The customer columns an edit writes: what changed, what is derived from it, what the
    hooks set, and `updated_at`."""
    columns = {"updated_at", *hooked}
    for name in changed:
        if name in EDITABLE_FIELDS:
            columns.add(name)
        columns.update(_DERIVED.get(name, ()))
    return sorted(columns)


def _apply(customer: Customer, data: dict) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed.single(name, "unknown_field", _("Unknown field: %s") % name)
    data = check_values(data, multiline=MULTILINE_FIELDS)
    for name, value in data.items():
        model_field = Customer._meta.get_field(name)
        if value is None and not model_field.null:
            # null clears a text field (PATCH); elsewhere it is refused here, before the
            # database's NOT NULL would turn it into a 500.
            if not isinstance(model_field, models.CharField | models.TextField):
                raise ValidationFailed.single(name, "null", _("This field cannot be empty."))
            value = ""
        if isinstance(value, str):
            value = fold(value) if name not in ("notes",) else value.strip()
        setattr(customer, name, value)
    if customer.email:
        customer.email = customer.email.lower()
    _set_search_keys(customer)
    if (
        customer.contact_window_start
        and customer.contact_window_end
        and (customer.contact_window_start >= customer.contact_window_end)
    ):
        raise ValidationFailed.single(
            "contact_window_end", "invalid_window", _("The window must end after it starts.")
        )
    if customer.birthday and customer.birthday > timezone.localdate():
        raise ValidationFailed.single(
            "birthday", "future_date", _("A birthday cannot be in the future.")
        )
    full_clean_or_fail(customer, exclude=["org_unit", "owner", "created_by", "merged_into", "tags"])
    if customer.referred_by_id and customer.referred_by_id == customer.pk:
        raise ValidationFailed.single(
            "referred_by_id", "self_referral", _("A customer cannot refer themselves.")
        )


def _set_phones(customer: Customer, phones) -> None:
    customer.phones.exclude(number__in=[p.e164 for p in phones]).delete()
    existing = set(customer.phones.values_list("number", flat=True))
    CustomerPhone.objects.bulk_create(
        CustomerPhone(
            customer=customer,
            number=p.e164,
            extension=p.extension,
            national=p.national,
            last4=p.last4,
        )
        for p in phones
        if p.e164 not in existing
    )
    primary = phones[0].e164 if phones else ""
    customer.phones.update(is_primary=False)
    if primary:
        customer.phones.filter(number=primary).update(is_primary=True)
    customer.primary_phone = primary


def _set_tags(customer: Customer, tag_names: list[str]) -> None:
    names = sorted({fold(n)[:40] for n in tag_names if fold(n)})
    if len(names) > MAX_TAGS:
        raise ValidationFailed.single("tags", "too_many", _("At most %d tags.") % MAX_TAGS)
    tags = [Tag.objects.get_or_create(name=n)[0] for n in names]
    customer.tags.set(tags)


def _resolve_owner(actor: User, owner: User | None) -> User | None:
    if owner is None:
        return actor if owns_what_they_create(actor) else None
    if owner.id == actor.id:
        return owner
    if not may_own_customers(owner):
        raise ValidationFailed.single(
            "owner_id", "invalid_owner", _("The owner must be an active salesperson or manager.")
        )
    if not can_assign_to(actor, owner):
        raise Forbidden(_("You cannot assign customers to this person."))
    return owner


def _snapshot(customer: Customer, unchanged_from: dict | None = None) -> dict:
    """The audited values; phones and tags are copied from `unchanged_from` (the snapshot
    before an edit that left them alone) instead of being read again."""
    values = {name: getattr(customer, name) for name in EDITABLE_FIELDS}
    if unchanged_from is not None:
        values["phones"], values["tags"] = unchanged_from["phones"], unchanged_from["tags"]
    else:
        values["phones"] = (
            sorted(customer.phones.values_list("number", flat=True)) if customer.pk else []
        )
        values["tags"] = sorted(customer.tags.values_list("name", flat=True)) if customer.pk else []
    values["owner_id"] = customer.owner_id
    return values


def customer_create(
    *,
    actor: User,
    data: dict,
    phones: list[str] = (),
    tags: list[str] = (),
    owner: User | None = None,
    allow_similar: bool = False,
    unowned_unit: OrgUnit | None = None,
) -> Customer:
    """A new customer record. `unowned_unit`: the desk's mode, a record nobody owns yet,
    held by that unit until someone receives the visitor (reception)."""
    if not can_create(actor):
        raise Forbidden(_("You may not create customers."))
    if unowned_unit is not None:
        owner, unit = None, unowned_unit
    else:
        owner = _resolve_owner(actor, owner)
        unit = (owner or actor).org_unit
    if unit is None:
        raise ValidationFailed.single(
            "owner_id", "no_org_unit", _("The owner has no organisation unit.")
        )
    customer = Customer(created_by=actor)
    ownership_initial(customer, owner=owner, org_unit=unit, now=customer.created_at)
    _check_referrer(actor, customer, data)
    _apply(customer, data)
    normalized = _normalize_phones(list(phones))
    _check_phone_owners(normalized, None, actor)
    _check_email_unique(customer.email, None, actor)
    if not allow_similar:
        candidates = find_duplicates(viewer=actor, name=customer.name)
        if candidates.visible or candidates.hidden_count:
            raise SimilarCustomersFound(candidates)
    with transaction.atomic():
        customer.primary_phone = normalized[0].e164 if normalized else ""
        _save_or_email_taken(customer)
        try:
            _set_phones(customer, normalized)
        except IntegrityError as exc:  # a racing create took the number first
            raise ValidationFailed.single(
                "phones", "duplicate_phone", _("This phone already belongs to another customer.")
            ) from exc
        _set_tags(customer, list(tags))
        # Other apps' rules on a new record (hooks.py): the first registration's protection
        # period (C3), the first follow-up of the cadence (C2).
        hooked = run_customer_hooks(
            customer=customer, created=True, changed=data.keys(), now=customer.created_at
        )
        if hooked:
            customer.save(update_fields=hooked)
        created = _snapshot(customer)
        index_customer(customer, created["tags"])
        audit_record(
            actor=actor,
            verb="customer.create",
            target=customer,
            changes=diff_fields({}, created),
        )
        webhook_emit("customer.created", customer_payload(customer))
    return customer


def customer_update(
    *,
    actor: User,
    customer_id: int,
    data: dict,
    phones: list[str] | None = None,
    tags: list[str] | None = None,
) -> Customer:
    # Checked before the transaction: on SQLite it holds the database's write lock from its
    # first statement, and every other save waits for it.
    normalized = _normalize_phones(phones) if phones is not None else None
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may edit this customer.")
        )
        if customer.archived_at:
            raise Conflict(_("Restore this customer before editing."), code="archived")
        before = _snapshot(customer)
        if data.get("referred_by_id") != before["referred_by_id"]:
            _check_referrer(actor, customer, data)
        _apply(customer, data)
        if normalized is not None:
            _check_phone_owners(normalized, customer.pk, actor)
            try:
                with transaction.atomic():
                    _set_phones(customer, normalized)
            except IntegrityError as exc:
                raise ValidationFailed.single(
                    "phones",
                    "duplicate_phone",
                    _("This phone already belongs to another customer."),
                ) from exc
        _check_email_unique(customer.email, customer.pk, actor)
        if tags is not None:
            _set_tags(customer, tags)
        customer.updated_at = timezone.now()
        untouched = before if phones is None and tags is None else None
        after = _snapshot(customer, unchanged_from=untouched)
        changes = diff_fields(before, after)
        # Other apps' rules on a change (hooks.py), e.g. a new relationship type reschedules
        # the follow-up (C2); what they set is saved with the rest.
        hooked = run_customer_hooks(
            customer=customer, created=False, changed=changes.keys(), now=customer.updated_at
        )
        # Only the columns that changed: every index on a column in the SET list is written,
        # changed or not, so a full save maintained all of the table's indexes on each edit.
        _save_or_email_taken(customer, update_fields=_columns_to_save(changes.keys(), hooked))
        if changes.keys() & _INDEXED:
            index_customer(customer, after["tags"])
        if changes:
            audit_record(actor=actor, verb="customer.update", target=customer, changes=changes)
            webhook_emit("customer.updated", customer_payload(customer, changed=list(changes)))
    return customer


def customer_archive(*, actor: User, customer_id: int, reason: str = "") -> Customer:
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may archive this customer.")
        )
        if customer.archived_at:
            raise Conflict(_("This customer is already archived."), code="already_archived")
        customer.archived_at = timezone.now()
        customer.save(update_fields=["archived_at", "updated_at"])
        index_customers([customer.pk])  # leaves the word and substring index
        audit_record(actor=actor, verb="customer.archive", target=customer, note=reason)
    return customer


def customer_restore(*, actor: User, customer_id: int) -> Customer:
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may restore this customer.")
        )
        if customer.merged_into_id:
            raise Conflict(_("A merged record cannot be restored."), code="merged")
        if not customer.archived_at:
            raise Conflict(_("This customer is not archived."), code="not_archived")
        customer.archived_at = None
        customer.save(update_fields=["archived_at", "updated_at"])
        index_customers([customer.pk])
        audit_record(actor=actor, verb="customer.restore", target=customer)
    return customer


REVEALABLE = {"phone", "phones", "id_number", "annual_income"}


def customer_reveal(*, actor: User, customer_id: int, field: str, reason: str = "") -> dict:
    """Show one sensitive field in clear to a viewer who would see it masked; audited."""
    if field not in REVEALABLE:
        raise ValidationFailed.single(
            "field", "invalid_choice", _("This field cannot be revealed.")
        )
    if not can_reveal(actor):
        raise Forbidden(_("Your role may not reveal contact details."))
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id)
        if field in ("phone", "phones"):
            value = list(
                customer.phones.order_by("-is_primary", "id").values_list("number", flat=True)
            )
        elif field == "id_number":
            value = customer.id_number
        else:
            value = str(customer.annual_income) if customer.annual_income is not None else ""
        audit_record(
            actor=actor,
            verb="customer.reveal",
            target=customer,
            changes={"field": field},
            note=reason,
        )
    return {"field": field, "value": value}


def customer_share(*, actor: User, customer_id: int, user: User) -> CustomerShare:
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may share this customer.")
        )
        if not may_receive_shares(user):
            raise ValidationFailed.single(
                "user_id", "invalid_user", _("Customers are shared with active salespeople.")
            )
        share, created = CustomerShare.objects.get_or_create(customer=customer, user=user)
        if created:
            audit_record(
                actor=actor,
                verb="customer.share",
                target=customer,
                changes={"shared_with": [None, str(user)]},
            )
    return share


def customer_unshare(*, actor: User, customer_id: int, user: User) -> None:
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may change sharing.")
        )
        if CustomerShare.objects.filter(customer=customer, user=user).delete()[0]:
            audit_record(
                actor=actor,
                verb="customer.unshare",
                target=customer,
                changes={"shared_with": [str(user), None]},
            )


def customer_reassign(*, actor: User, customer_id: int, to: User, reason: str) -> Customer:
    with transaction.atomic():
        customer = customer_get(viewer=actor, pk=customer_id, for_update=True)
        if not manages(actor, customer):
            raise Forbidden(_("Only a manager may reassign customers."))
        owner = _resolve_owner(actor, to)
        # The credit passes with the customer: the next deal's commission is the new owner's.
        ownership_change(
            customer=customer,
            reason=Reason.MANUAL_REASSIGNMENT,
            actor=actor,
            owner=owner,
            org_unit=owner.org_unit,
            note=reason,
        )
    return customer


def household_link(*, actor: User, customer_id: int, member_id: int, role: str = "") -> Household:
    """Put two customers in one household (they count as one for ownership, C3 case 11).

    When both already belong to different households, the member's whole household joins the
    customer's. That moves records besides the two named, so the actor must be allowed to
    edit every one of them; if any is not theirs to edit (another salesperson's customer),
    nothing is linked and Forbidden says why. Moving only the records the actor may edit was
    rejected: it would split the other family without its owner's knowledge, and a family
    counts as one for ownership (C3 case 11), so a split moves credit between salespeople.
    """
    if customer_id == member_id:
        raise ValidationFailed.single("member_id", "same_customer", _("Choose another customer."))
    if role and role not in Customer.HouseholdRole.values:
        raise ValidationFailed.single("role", "invalid_choice", _("Unknown household role."))
    with transaction.atomic():
        # Locked in id order: two opposite links at once wait for each other, never deadlock.
        locked = {
            pk: customer_get(viewer=actor, pk=pk, for_update=True)
            for pk in sorted((customer_id, member_id))
        }
        customer, member = locked[customer_id], locked[member_id]
        if not (can_edit(actor, customer) and can_edit(actor, member)):
            raise Forbidden(_("Only the owner or a manager may link households."))
        household = customer.household or member.household
        if household is None:
            household = Household.objects.create(name=_("%s's family") % customer.name)
        moved = 0
        if (
            member.household_id
            and customer.household_id
            and member.household_id != customer.household_id
        ):
            family = list(
                Customer.objects.select_for_update()
                .filter(household_id=member.household_id)
                .exclude(pk=member.pk)
                .order_by("pk")  # lock in id order: no deadlock with a concurrent link
            )
            if not all(can_edit(actor, relative) for relative in family):
                raise Forbidden(
                    _(
                        "The other household includes customers you may not edit, and linking "
                        "would move them too. Ask their owner or a manager to link the "
                        "households."
                    ),
                    code="household_not_editable",
                )
            moved = Customer.objects.filter(pk__in=[r.pk for r in family]).update(
                household=household
            )
        for person in (customer, member):
            person.household = household
        member.household_role = role or member.household_role
        customer.save(update_fields=["household"])
        member.save(update_fields=["household", "household_role"])
        audit_record(
            actor=actor,
            verb="customer.household_link",
            target=customer,
            changes={"member": [None, member.id], **({"moved": moved} if moved else {})},
        )
    return household


def contact_add(*, actor: User, customer_id: int, data: dict) -> ContactPerson:
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may add contacts.")
        )
        if customer.kind != Customer.Kind.ORGANISATION:
            raise ValidationFailed.single(
                "kind", "not_organisation", _("Only organisations have contact persons.")
            )
        contact = ContactPerson(
            organisation=customer,
            **{
                k: fold(v) if isinstance(v, str) else v
                for k, v in data.items()
                if k in ("name", "title", "phone", "email", "wechat_id", "is_primary", "notes")
            },
        )
        if contact.phone:
            try:
                contact.phone = normalize_phone(contact.phone).e164
            except InvalidPhone as exc:
                raise ValidationFailed.single(
                    "phone", "invalid_phone", _("Not a valid phone number.")
                ) from exc
        full_clean_or_fail(contact, exclude=["organisation"])
        contact.save()
        audit_record(
            actor=actor,
            verb="customer.contact_add",
            target=customer,
            changes={"contact": [None, contact.name]},
        )
    return contact


def important_date_add(*, actor: User, customer_id: int, data: dict) -> ImportantDate:
    with transaction.atomic():
        customer = _editable_locked(
            actor, customer_id, _("Only the owner or a manager may add dates.")
        )
        item = ImportantDate(
            customer=customer,
            **{k: v for k, v in data.items() if k in ("kind", "label", "date", "yearly")},
        )
        full_clean_or_fail(item, exclude=["customer"])
        item.save()
        audit_record(
            actor=actor,
            verb="customer.date_add",
            target=customer,
            changes={"date": [None, f"{item.label} {item.date}"]},
        )
    return item


# Scalar fields the kept record takes from the merged one when its own are empty.
_FILL_FIELDS = [f for f in EDITABLE_FIELDS if f not in ("kind", "name", "stage", "source")]
_STAGE_ORDER = list(Customer.Stage.values)


def customer_merge(*, actor: User, keep_id: int, merge_id: int) -> Customer:
    """Merge `merge_id` into `keep_id`: every related row moves, nothing is deleted.

    Related rows of every app are found through the model's relations, so an app added later
    is merged without editing this function. The merged record stays, archived, pointing at
    the kept one, so its history and audit trail remain readable.
    """
    if keep_id == merge_id:
        raise ValidationFailed.single(
            "merge_id", "same_customer", _("Choose two different customers.")
        )
    with transaction.atomic():
        first, second = sorted([keep_id, merge_id])  # lock in id order: no deadlock
        locked = {pk: customer_get(viewer=actor, pk=pk, for_update=True) for pk in (first, second)}
        keep, other = locked[keep_id], locked[merge_id]
        if not (can_edit(actor, keep) and can_edit(actor, other)):
            raise Forbidden(_("You may only merge customers you own or manage."))
        if other.merged_into_id or keep.merged_into_id:
            raise Conflict(_("That record was already merged."), code="already_merged")
        if keep.archived_at:
            raise Conflict(_("Restore this customer before merging into it."), code="archived")

        filled = {}
        for name in _FILL_FIELDS:
            if getattr(keep, name) in ("", None) and getattr(other, name) not in ("", None):
                setattr(keep, name, getattr(other, name))
                filled[name] = getattr(other, name)
        _set_search_keys(keep)
        if _STAGE_ORDER.index(other.stage) > _STAGE_ORDER.index(keep.stage):
            keep.stage = other.stage
        if not keep.primary_phone:
            keep.primary_phone = other.primary_phone
        if keep.owner_id is None and other.owner_id is not None:
            # Nobody owned the kept record (a desk record not yet received, say): it takes
            # the merged record's owner, protection and credit, as one ownership change —
            # before the related rows move, so the owner-change hooks see its own rows only.
            ownership_change(
                customer=keep,
                reason=Reason.MERGE,
                actor=actor,
                owner=other.owner,
                org_unit=other.org_unit,
                protected_until=other.protected_until,
                credit=other.credit_holder,
                note=_("Merged from #%s") % other.pk,
            )
        moved = _move_related(keep, other)
        keep.tags.add(*other.tags.all())

        keep.order_count = F("order_count") + other.order_count
        keep.revenue = F("revenue") + other.revenue
        for name in ("last_contact_at", "last_purchase_at"):
            values = [v for v in (getattr(keep, name), getattr(other, name)) if v]
            setattr(keep, name, max(values) if values else None)
        nexts = [v for v in (keep.next_follow_up_at, other.next_follow_up_at) if v]
        keep.next_follow_up_at = min(nexts) if nexts else None
        keep.updated_at = timezone.now()
        # `other` leaves the live records first: an e-mail filled from it onto `keep` is then
        # still unique among live customers (unique_live_customer_email).
        other.merged_into = keep
        other.archived_at = timezone.now()
        other.primary_phone = ""
        other.order_count = 0
        other.revenue = 0
        other.save()
        keep.save()
        keep.refresh_from_db()
        index_customers([keep.pk, other.pk])  # the merged record leaves the index
        audit_record(
            actor=actor,
            verb="customer.merge",
            target=keep,
            changes={"merged": [None, merge_id], "filled": diff_fields({}, filled), "moved": moved},
        )
        audit_record(
            actor=actor,
            verb="customer.merged_into",
            target=other,
            changes={"merged_into": [None, keep_id]},
        )
        webhook_emit("customer.merged", {**customer_payload(keep), "merged_id": merge_id})
    return keep


def _move_related(keep: Customer, other: Customer) -> dict[str, int]:
    """Point every row that refers to `other` at `keep`; returns counts per relation."""
    moved: dict[str, int] = {}
    if keep.household_id is None:
        keep.household_id = other.household_id
    elif other.household_id and other.household_id != keep.household_id:
        # Both had a family: the other's family joins the kept one (C3 case 11).
        family = Customer.objects.filter(household_id=other.household_id).exclude(pk=other.pk)
        if count := family.update(household_id=keep.household_id):
            moved["customers.customer.household"] = count
    # Shares: the union, without breaking the (customer, user) uniqueness.
    already = set(keep.shares.values_list("user_id", flat=True))
    other.shares.filter(user_id__in=already).delete()
    if keep.referred_by_id in (keep.id, other.id):  # never leave the kept record referring itself
        keep.referred_by_id = other.referred_by_id if other.referred_by_id != keep.id else None
    for relation in Customer._meta.related_objects:
        if relation.many_to_many:
            continue
        field_name = relation.field.name
        manager = relation.related_model._base_manager
        count = manager.filter(**{field_name: other}).update(**{field_name: keep})
        if count:
            moved[relation.related_model._meta.label_lower + "." + field_name] = count
    # The primary phone stays the kept record's own.
    CustomerPhone.objects.filter(customer=keep).exclude(number=keep.primary_phone).update(
        is_primary=False
    )
    return moved


# ---- running figures and follow-up state, written here for the apps that feed them ---------

FOLLOW_UP_FIELDS = ["last_contact_at", "next_follow_up_at", "follow_up_rule", "follow_up_step"]


def purchase_record(*, customer_id: int, amount, at=None) -> None:
    """A paid deal or order: the running figures on the customer row (ARCHITECTURE), in the
    caller's transaction; a potential customer or prospect becomes a customer."""
    Customer.objects.filter(pk=customer_id).update(
        last_purchase_at=at or timezone.now(),
        order_count=F("order_count") + 1,
        revenue=F("revenue") + amount,
    )
    Customer.objects.filter(pk=customer_id, stage__in=["potential", "prospect"]).update(
        stage="customer"
    )


def follow_up_save(*, customer: Customer) -> None:
    """Store the follow-up state interactions' cadence rules set on `customer` (a logged
    contact, a rescheduled follow-up), in the caller's transaction."""
    customer.save(update_fields=FOLLOW_UP_FIELDS)


def follow_up_due_now(*, customer_ids, rule: str, now) -> None:
    """Bring these customers' follow-up forward to `now` (an instalment fell overdue); one
    already due earlier stays."""
    live = Customer.objects.filter(pk__in=customer_ids)
    live.filter(next_follow_up_at__gt=now).update(next_follow_up_at=now, follow_up_rule=rule)
    live.filter(next_follow_up_at__isnull=True).update(next_follow_up_at=now, follow_up_rule=rule)


def household_join(*, customer: Customer, member: Customer) -> Household:
    """The desk registered `customer` as a family member of `member` (C3 case 11): both in
    the member's household, a new one named after the member when they had none."""
    household = member.household or Household.objects.create(name=f"{member.name}家")
    if member.household_id is None:
        Customer.objects.filter(pk=member.pk).update(household=household)
    Customer.objects.filter(pk=customer.pk).update(household=household)
    customer.household = household
    return household


# ---- bulk loads (imports) ---------------------------------------------------------------------


def load_batch_open(*, label: str) -> int:
    """A new, unpublished LoadBatch: customers written with its id stay hidden from every
    visibility-aware read until load_batch_publish()."""
    return LoadBatch.objects.create(label=label[:100]).pk


def load_batch_publish(*, batch_id: int) -> bool:
    """Show the batch's customers, all at once: one row updated. Call it in the transaction
    that records the load as done."""
    return bool(
        LoadBatch.objects.filter(pk=batch_id, published_at__isnull=True).update(
            published_at=timezone.now()
        )
    )


def load_batch_forget(*, batch_id: int) -> None:
    """Drop an unpublished batch once its customers are deleted."""
    LoadBatch.objects.filter(pk=batch_id, published_at__isnull=True).delete()


def load_batches_unpublished() -> list[int]:
    return list(LoadBatch.objects.filter(published_at__isnull=True).values_list("id", flat=True))
