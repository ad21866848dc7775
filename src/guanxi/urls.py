from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("customers/", include("guanxi.customers.urls")),
    path("", include("guanxi.interactions.urls")),
    path("reception/", include("guanxi.reception.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("", include("guanxi.transfer.urls")),
    path("", include("guanxi.core.urls")),
]
