from django.urls import path

from . import inbox, views

urlpatterns = [
    path("notifications/read/", views.notifications_read_view, name="notifications_read"),
    path("notifications/", inbox.list_view, name="notifications"),
    path("notifications/bell/", inbox.bell_view, name="notifications_bell"),
    path("notifications/menu/", inbox.menu_view, name="notifications_menu"),
    path("notifications/mark-read/", inbox.mark_read_view, name="notifications_mark_read"),
    path("notifications/<int:pk>/open/", inbox.open_view, name="notification_open"),
]
