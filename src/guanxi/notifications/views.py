from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from guanxi.core.web import safe_next

from . import services


@login_required
@require_POST
def notifications_read_view(request):
    """Dismiss one notice (`id`) or, without one, all of the user's unread notices."""
    pk = request.POST.get("id")
    if pk is None:
        services.notification_mark_read(actor=request.user)
    elif pk.isdigit() and len(pk) < 19:
        services.notification_mark_read(actor=request.user, notification_id=int(pk))
    return redirect(safe_next(request, reverse("my_day")))
