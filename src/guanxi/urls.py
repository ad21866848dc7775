from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("customers/", include("guanxi.customers.urls")),
    path("", include("guanxi.notifications.urls")),
    path("", include("guanxi.interactions.urls")),
    path("reception/", include("guanxi.reception.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("service/", include("guanxi.service.urls")),
    path("help/", include("guanxi.service.public_urls")),
    path("loyalty/", include("guanxi.loyalty.urls")),
    path("insights/", include("guanxi.insights.urls")),
    path("", include("guanxi.marketing.urls")),
    path("reports/", include("guanxi.reports.urls")),
    path("", include("guanxi.transfer.urls")),
    path("", include("guanxi.core.urls")),
]


def handler404(request, exception):
    """JSON for the API (a stable `code`), the normal page for everything else."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse
        from django.utils.translation import gettext as _

        return JsonResponse(
            {"code": "not_found", "message": _("Not found."), "field": None}, status=404
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def csrf_failure(request, reason=""):
    """A refused CSRF check on the API is a JSON 403 a script can read (the session cookie
    without its token); pages get the styled 403 page."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse
        from django.utils.translation import gettext as _

        return JsonResponse(
            {
                "code": "csrf_failed",
                "message": _("The request was refused: its CSRF token is missing or wrong."),
                "field": None,
            },
            status=403,
        )
    from django.views.csrf import csrf_failure as page

    return page(request, reason=reason)
