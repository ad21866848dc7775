"""Customer warnings: what other apps want everyone serving a customer to know ("an open
complaint", "a repair in progress"), shown on the customer page and the deal and quote
forms. Apps register a provider in their AppConfig.ready(); the lower apps (sales) read the
warnings without importing the app that raised them (service).

    register_customer_warning("service", provider)
    # provider(*, customer, viewer) -> list[CustomerWarning]

A warning with `confirm_sales=True` (an unresolved complaint) makes a quote, deposit or
order for that customer ask for an explicit confirmation, which is audited
(`sales_confirmation_check`); with the setting GUANXI_BLOCK_SALES_ON_COMPLAINT it blocks.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from guanxi.core.audit import audit_record
from guanxi.core.errors import Conflict


@dataclass
class CustomerWarning:
    code: str
    message: str
    level: str = "warning"  # a Bootstrap alert colour: "warning" or "danger"
    url: str = ""
    confirm_sales: bool = False


Provider = Callable[..., list[CustomerWarning]]
_PROVIDERS: dict[str, Provider] = {}
# Buttons other apps add to the customer page: provider(*, customer, viewer) ->
# [(label, url)], e.g. service's "New ticket".
_ACTIONS: dict[str, Callable[..., list[tuple[str, str]]]] = {}


def register_customer_action(name: str, provider: Callable[..., list[tuple[str, str]]]) -> None:
    _ACTIONS[name] = provider


def customer_actions(*, customer, viewer) -> list[tuple[str, str]]:
    return [a for p in _ACTIONS.values() for a in p(customer=customer, viewer=viewer)]


def register_customer_warning(name: str, provider: Provider) -> None:
    _PROVIDERS[name] = provider


def customer_warnings(*, customer, viewer) -> list[CustomerWarning]:
    """Every registered provider's warnings about `customer`, for `viewer` (who can see
    the customer: the caller checked)."""
    warnings: list[CustomerWarning] = []
    for provider in _PROVIDERS.values():
        warnings.extend(provider(customer=customer, viewer=viewer))
    return warnings


class SalesConfirmationNeeded(Conflict):
    def __init__(self, message: str):
        super().__init__(message, code="confirm_open_complaint", field="confirm_warnings")


def sales_confirmation_check(*, actor, customer, action: str, confirmed: bool) -> None:
    """Before a quote, deposit or order: refuse while a warning asks for confirmation and
    none was given (or always, when the setting blocks); record a given confirmation in
    the audit trail. The caller runs it just before the action."""
    needing = [w for w in customer_warnings(customer=customer, viewer=actor) if w.confirm_sales]
    if not needing:
        return
    text = "; ".join(w.message for w in needing)
    if getattr(settings, "GUANXI_BLOCK_SALES_ON_COMPLAINT", False):
        raise Conflict(
            _("Not allowed while this customer has an unresolved complaint: %(w)s") % {"w": text},
            code="blocked_by_open_complaint",
        )
    if not confirmed:
        raise SalesConfirmationNeeded(
            _("This customer has an unresolved complaint (%(w)s). Tick the confirmation to go on.")
            % {"w": text}
        )
    audit_record(
        actor=actor,
        verb="sales.warning_confirmed",
        target=customer,
        changes={"action": action, "warnings": [w.code for w in needing]},
        note=text,
    )
