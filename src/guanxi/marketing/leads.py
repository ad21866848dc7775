"""Lead capture (C7): a public form's submission becomes a customer someone answers.

A lead found by phone (or e-mail) is merged into that customer: the submission is kept on
the record and its owner is notified with a response task. A new lead is registered at the
branch's desk as a call, through reception's services, so it enters the rotation (C3) like
a phone enquiry; the salesperson it falls to gets the response task with the form's SLA. If
nobody is on duty the lead waits at the desk, and the desk is notified, so a web request
never sits unanswered.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from guanxi.customers.keys import InvalidPhone, email_key, normalize_phone
from guanxi.customers.models import Customer
from guanxi.interactions.services import follow_up_set
from guanxi.notifications.services import notify
from guanxi.reception.services import Registration, visit_register, visit_register_and_receive

from .models import ConsentEvidence, Lead, LeadForm, Purpose, Recipient
from .services import _customer_by_phone, consent_record


def _notify(*, recipient, key: str, title, params: dict, body: str = "", url: str = "") -> bool:
    """Through the notification centre: the title is rendered in the reader's language."""

    return notify(
        recipient=recipient, key=key, title=title, params=params, body=body, url=url, kind="lead"
    )


def _validate(name: str, phone: str, email: str, message: str) -> list[FieldError]:
    errors = []
    if not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "required", _("Please tell us your name.")))
    try:
        normalize_phone(phone)
    except InvalidPhone:
        errors.append(FieldError("phone", "invalid_phone", _("Please give a valid phone number.")))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(FieldError("email", "invalid_email", _("Not a valid e-mail address.")))
    if len(message) > 1000:
        errors.append(FieldError("message", "max_length", _("At most 1000 characters.")))
    return errors


def lead_submit(
    *,
    form_key: str,
    name: str,
    phone: str,
    email: str = "",
    message: str = "",
    consent: bool = False,
    remote_addr: str | None = None,
) -> Lead:
    form = (
        LeadForm.objects.select_related("intake_user", "branch")
        .filter(key=form_key, active=True)
        .first()
    )
    if form is None:
        raise NotFound(_("This form is not available."))
    name, email, message = name.strip(), email.strip().lower(), message.strip()
    errors = _validate(name, phone, email, message)
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    answer_by = now + timedelta(hours=form.response_hours)
    with transaction.atomic():
        customer = _customer_by_phone(phone)
        if customer is None and email:
            customer = Customer.objects.filter(
                email_key=email_key(email), merged_into__isnull=True
            ).first()
        is_new = customer is None
        owner = customer.owner if customer is not None else None
        assignee = owner if owner is not None and owner.is_active else None
        if assignee is None:
            known = customer.primary_phone if customer is not None else ""
            registration = Registration(
                phone=known or phone,
                name=name,
                kind="call",
                source=Customer.Source.WEB_FORM,
                notes=(
                    _("Web form “%(form)s”: %(message)s") % {"form": form.name, "message": message}
                )[:500],
            )
            try:
                with transaction.atomic():
                    visit = visit_register_and_receive(
                        actor=form.intake_user, registration=registration, branch_id=form.branch_id
                    )
            except Conflict:
                # Nobody on duty: the lead waits at the desk like any unanswered call.
                visit = visit_register(
                    actor=form.intake_user, registration=registration, branch_id=form.branch_id
                )
            customer = Customer.objects.select_related("owner").get(pk=visit.customer_id)
            assignee = visit.receiver
        assert customer is not None  # found, or registered at the desk just now
        lead = Lead.objects.create(
            form=form,
            customer=customer,
            is_new=is_new,
            name=name,
            email=email,
            message=message,
            answer_by=answer_by,
            assignee=assignee,
            remote_addr=remote_addr,
        )
        if assignee is not None:
            follow_up_set(
                actor=assignee,
                customer_id=customer.pk,
                at=answer_by,
                note=_("Answer the web enquiry: %s") % (message[:200] or form.name),
            )
        if consent:
            channels: list[str] = ["sms", "phone"] + (["email"] if email else [])
            consent_record(
                actor=None,
                customer_id=customer.pk,
                channels=channels,
                purpose=Purpose.MARKETING,
                granted=True,
                method=ConsentEvidence.Method.FORM,
                text_version=form.consent_version,
                evidence=f"{form.key}: {form.consent_text[:200]} ({remote_addr or '-'})",
            )
        if form.campaign_id:
            Recipient.objects.filter(
                campaign_id=form.campaign_id, customer=customer, responded_at__isnull=True
            ).update(responded_at=now)
        audit_record(
            actor=None,
            verb="lead.capture",
            target=customer,
            changes={"form": form.key, "new": is_new},
            note=message[:200],
        )
    title = (
        gettext_lazy("New web enquiry from %(name)s: answer by %(at)s")
        if is_new
        else gettext_lazy("Your customer %(name)s sent a web enquiry: answer by %(at)s")
    )
    params = {"name": customer.name, "at": timezone.localtime(answer_by).strftime("%H:%M")}
    transaction.on_commit(
        lambda: _notify(
            recipient=assignee or form.intake_user,
            key=f"lead:{lead.pk}",
            title=title,
            params=params,
            body=message[:300],
            url=customer.get_absolute_url(),
        )
    )
    return lead
