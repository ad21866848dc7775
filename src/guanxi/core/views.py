"""Home per role, the audit log, user administration and API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .audit_display import describe_entries, verb_choices
from .errors import DomainError
from .forms import TokenForm, UserForm
from .home import home_panels_for
from .login_throttle import address_locked, locked_usernames
from .models import ApiToken, User
from .permissions import is_manager, managed_units
from .selectors import audit_entries_for
from .services import (
    token_create,
    token_revoke,
    user_create,
    user_set_active,
    user_unlock,
    user_update,
)
from .tour import tour_dismiss, tour_for
from .visibility import can_create
from .web import attach_errors


def healthz(request):
    """A bare endpoint: the baseline the benchmarks compare real pages against."""
    return JsonResponse({"ok": True})


@login_required
def home(request):
    """What this person works on first: the panels of every app for their roles."""
    user = request.user
    context = {
        "roles": user.role_labels(),
        "can_create": can_create(user),
        "panels": home_panels_for(user),
        "tour": tour_for(user),
    }
    return render(request, "core/home.html", context)


@login_required
@require_POST
def tour_dismiss_view(request):
    tour_dismiss(actor=request.user, tour=request.POST.get("tour", "")[:20])
    return redirect("home")


@login_required
def audit_log(request):
    if not is_manager(request.user):
        raise Http404

    entries = audit_entries_for(request.user).select_related("actor")
    verb = request.GET.get("verb", "").strip()
    if verb:
        entries = entries.filter(verb__startswith=verb)
    target = request.GET.get("target", "").strip()
    if target.isdigit():
        entries = entries.filter(target_id=int(target))
    actor = request.GET.get("actor", "").strip()
    if actor.isdigit():
        entries = entries.filter(actor_id=int(actor))
    since = _date_param(request, "since")
    if since:
        entries = entries.filter(created_at__gte=_local_midnight(since))
    until = _date_param(request, "until")
    if until:
        entries = entries.filter(created_at__lt=_local_midnight(until, days=1))
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(id__lt=int(before))
    rows = describe_entries(entries.order_by("-id")[:51], viewer=request.user)
    params = request.GET.copy()
    params.pop("before", None)
    return render(
        request,
        "core/audit_log.html",
        {
            "entries": rows[:50],
            "next_before": rows[49].id if len(rows) > 50 else None,
            "verb": verb,
            "target": target,
            "actor": actor,
            "since": since.isoformat() if since else "",
            "until": until.isoformat() if until else "",
            "verbs": verb_choices(),
            "actors": _audit_actors(request.user),
            "base_query": params.urlencode(),
        },
    )


def _date_param(request, name: str):
    from django.utils.dateparse import parse_date

    try:
        return parse_date(request.GET.get(name, "").strip() or "")
    except ValueError:
        return None


def _local_midnight(day, days: int = 0):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day + timedelta(days=days), time.min))


def _audit_actors(user: User):
    """The people whose entries this reader may filter by."""
    units = managed_units(user)
    users = User.objects.all() if units is None else User.objects.filter(org_unit_id__in=units)
    return list(users.order_by("username")[:500])


def _require_admin(request):
    if not request.user.is_admin:
        raise Http404


@login_required
def user_list(request):
    _require_admin(request)
    q = request.GET.get("q", "").strip()
    users = User.objects.select_related("org_unit").prefetch_related("roles").order_by("username")
    if q:
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    users = list(users[:200])
    locked = locked_usernames([u.username for u in users])
    for u in users:
        u.login_locked = u.username in locked
    return render(request, "core/user_list.html", {"users": users, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int | None = None):
    _require_admin(request)
    target = User.objects.filter(pk=pk).first() if pk else None
    if pk and target is None:
        raise Http404
    initial = {}
    if target:
        initial = {
            "username": target.username,
            "display_name": target.display_name,
            "email": target.email,
            "org_unit": target.org_unit_id,
            "roles": list(target.role_set),
        }
    form = UserForm(request.POST or None, initial=initial, editing=bool(target))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if target:
                user_update(
                    actor=request.user,
                    user_id=target.pk,
                    display_name=data["display_name"],
                    org_unit=data["org_unit"],
                    roles=data["roles"],
                    email=data["email"],
                )
            else:
                user_create(
                    actor=request.user,
                    username=data["username"],
                    password=data["password"],
                    display_name=data["display_name"],
                    org_unit=data["org_unit"],
                    roles=data["roles"],
                    email=data["email"],
                )
        except DomainError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, _("User saved."))
            return redirect("user_list")
    return render(request, "core/user_form.html", {"form": form, "target": target})


@login_required
@require_POST
def user_toggle_active(request, pk: int):
    _require_admin(request)
    try:
        user = user_set_active(
            actor=request.user, user_id=pk, active=request.POST.get("active") == "1"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(user)s is now %(state)s.")
            % {"user": user, "state": _("active") if user.is_active else _("deactivated")},
        )
    return redirect("user_list")


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = token_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as exc:
            attach_errors(form, exc)
        else:
            form = TokenForm()
    return render(
        request,
        "core/tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.filter(user=request.user),
        },
    )


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    try:
        token_revoke(actor=request.user, token_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Token revoked."))
    return redirect("tokens")


class LoginView(auth_views.LoginView):
    """Django's login, refused (429) while this address is over its limit across usernames."""

    def post(self, request, *args, **kwargs):
        if address_locked(request):
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        return super().post(request, *args, **kwargs)


@login_required
@require_POST
def user_unlock_view(request, pk: int):
    _require_admin(request)
    try:
        user = user_unlock(actor=request.user, user_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(user)s may log in again.") % {"user": user})
    return redirect("user_list")
