"""{% customer_warnings customer %}: the registered warnings about a customer, as alerts
(customer page, deal and quote forms). The viewer is the request's user."""

from django import template

from ..warnings import customer_actions as _actions
from ..warnings import customer_warnings as _warnings

register = template.Library()


@register.inclusion_tag("customers/partials/warnings.html", takes_context=True)
def customer_warnings(context, customer, confirm: bool = False):
    request = context.get("request")
    viewer = getattr(request, "user", None)
    warnings = _warnings(customer=customer, viewer=viewer) if viewer else []
    return {
        "warnings": warnings,
        "confirm": confirm and any(w.confirm_sales for w in warnings),
    }


@register.inclusion_tag("customers/partials/actions.html", takes_context=True)
def customer_actions(context, customer):
    request = context.get("request")
    viewer = getattr(request, "user", None)
    return {"actions": _actions(customer=customer, viewer=viewer) if viewer else []}
