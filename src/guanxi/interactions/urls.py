from django.urls import path

from . import views

urlpatterns = [
    path("my-day/", views.my_day_view, name="my_day"),
    path("customers/<int:pk>/log/", views.log_view, name="interaction_log"),
    path("customers/<int:pk>/greeting/", views.greeting_send_view, name="greeting_send"),
    path("customers/<int:pk>/slot-check/", views.slot_check_view, name="slot_check"),
    path("promises/<int:pk>/done/", views.promise_done_view, name="promise_done"),
    path("plans/", views.plan_save_view, name="plan_save"),
    path("team/", views.team_view, name="team"),
    path("settings/cadence/", views.cadence_settings_view, name="cadence_settings"),
    path("calendar/", views.calendar_settings_view, name="calendar_settings"),
    path("calendar/<str:token>.ics", views.calendar_feed_view, name="calendar_feed"),
]
