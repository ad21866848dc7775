"""The bell in the header, its dropdown, and the notification list page.

The bell polls with the state it last showed (unread count and newest unread id): while
nothing changed the answer is an empty 204, one indexed aggregate on the (user, read_at,
-id) index and no rendering, so every open tab can poll cheaply.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from guanxi.core.models import User
from guanxi.core.web import is_htmx_partial, safe_next

from . import services
from .models import Notification

MENU_SIZE = 8
BADGE_MAX = 99
PAGE_SIZE = 30


def bell_state(user: User) -> dict:
    """Unread count (up to BADGE_MAX + 1, shown "99+") and newest unread id: what the bell
    shows, and its poll's version. Reads at most 100 ids along the (user, read_at, -id)
    index, so a user with thousands of unread notices polls as cheaply as one with two."""
    ids = list(
        Notification.objects.filter(user=user, read_at__isnull=True)
        .order_by("-id")
        .values_list("id", flat=True)[: BADGE_MAX + 1]
    )
    n, top = len(ids), ids[0] if ids else 0
    return {"unread": n, "version": f"{n}.{top}"}


def bell_context(request) -> dict:
    """Context processor: the header's bell on every page, one query when it is drawn."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from django.utils.functional import SimpleLazyObject

    return {"bell": SimpleLazyObject(lambda: bell_state(user))}


@login_required
def bell_view(request):
    state = bell_state(request.user)
    if request.GET.get("v") == state["version"]:
        return HttpResponse(status=204)
    return render(request, "notifications/partials/bell_count.html", {"bell": state})


@login_required
def menu_view(request):
    notices = list(Notification.objects.filter(user=request.user)[:MENU_SIZE])
    return render(
        request,
        "notifications/partials/bell_menu.html",
        {
            "notices": notices,
            "bell": bell_state(request.user),
            # "Mark all read" returns to the page the menu was opened on (checked on POST).
            "back": request.headers.get("HX-Current-URL", ""),
        },
    )


@login_required
def list_view(request):
    notices = Notification.objects.filter(user=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    before = request.GET.get("before", "")
    if before.isdigit() and len(before) < 19:
        notices = notices.filter(id__lt=int(before))
    rows = list(notices.order_by("-id")[: PAGE_SIZE + 1])
    context = {
        "notices": rows[:PAGE_SIZE],
        "next_before": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        "unread_only": unread_only,
        "bell": bell_state(request.user),
    }
    if is_htmx_partial(request):
        return render(request, "notifications/partials/notice_list.html", context)
    return render(request, "notifications/list.html", context)


def _local(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//") and "\\" not in url


@login_required
def open_view(request, pk: int):
    """Follow a notice to its object, marking it read on the way."""
    notice = Notification.objects.filter(user=request.user, pk=pk).first()
    if notice is None:
        raise Http404
    services.notification_mark_read(actor=request.user, notification_id=notice.pk)
    return redirect(notice.url if notice.url and _local(notice.url) else reverse("notifications"))


@login_required
@require_POST
def mark_read_view(request):
    """Mark one notice (`id`) or all read; htmx gets the refreshed list, a form a redirect."""
    pk = request.POST.get("id", "")
    if pk.isdigit() and len(pk) < 19:
        services.notification_mark_read(actor=request.user, notification_id=int(pk))
    elif not pk:
        services.notification_mark_read(actor=request.user)
    if is_htmx_partial(request):
        response = list_view(request)
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect(safe_next(request, reverse("notifications")))
