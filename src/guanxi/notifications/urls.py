from django.urls import path

from . import views

urlpatterns = [
    path("notifications/read/", views.notifications_read_view, name="notifications_read"),
]
