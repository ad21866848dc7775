"""Small helpers shared by the web views of every app."""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from .errors import SHOWN_ON_PAGE, DomainError


def is_htmx_partial(request: HttpRequest) -> bool:
    """The one predicate for partial vs full page: an htmx request that is not boosted."""
    return (
        request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    )


def attach_errors(
    form: forms.Form, exc: DomainError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's errors on the form fields they concern, the rest above the form."""
    field_map = field_map or {}
    errors = exc.errors or []
    if not errors:
        name = field_map.get(exc.field or "", exc.field)
        form.add_error(name if name in form.fields else None, str(exc.message))
        return
    for error in errors:
        name = field_map.get(error.field, error.field)
        form.add_error(name if name in form.fields else None, str(error.message))


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` the form asked for, if it stays on this site; else `default`."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def page_action(
    request: HttpRequest, action: Callable[..., object], success: str, **kwargs
) -> bool:
    """Run a service for a button on a page and say on the next page how it went: `success`,
    or the refusal's own words (the errors SHOWN_ON_PAGE). True when the service succeeded."""
    try:
        action(actor=request.user, **kwargs)
    except SHOWN_ON_PAGE as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True
