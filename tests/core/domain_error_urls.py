"""Views that let a domain error escape, for tests/core/test_domain_error_pages.py."""

from django.urls import include, path

from guanxi.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


def _raise(error):
    def view(request):
        raise error

    return view


urlpatterns = [
    path("missing/", _raise(NotFound("没有这条记录"))),
    path("forbidden/", _raise(Forbidden("只有经理可以这样做"))),
    path("conflict/", _raise(Conflict("这个单元已被预订"))),
    path("invalid/", _raise(ValidationFailed.single("amount", "invalid", "金额不对"))),
    path("", include("guanxi.urls")),
]
