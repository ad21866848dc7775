from django.urls import path

from . import views

app_name = "service"
urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("manager/", views.manager_view, name="manager"),
    path("new/", views.ticket_create_view, name="create"),
    path("tickets/<int:pk>/", views.ticket_view, name="ticket"),
    path("tickets/<int:pk>/reply/", views.ticket_reply_view, name="reply"),
    path("tickets/<int:pk>/status/", views.ticket_status_view, name="status"),
    path("tickets/<int:pk>/assign/", views.ticket_assign_view, name="assign"),
]
