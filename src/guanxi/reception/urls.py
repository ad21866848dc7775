from django.urls import path

from . import views

app_name = "reception"
urlpatterns = [
    path("", views.desk_view, name="desk"),
    path("lookup/", views.lookup_view, name="lookup"),
    path("next/", views.next_view, name="next"),
    path("slots/<int:pk>/state/", views.slot_state_view, name="slot_state"),
    path("roster/", views.roster_view, name="roster"),
    path("register/", views.register_view, name="register"),
    path("disputes/", views.disputes_view, name="disputes"),
    path("disputes/<int:pk>/", views.dispute_decide_view, name="dispute_decide"),
    path("disputes/new/<int:customer_id>/", views.dispute_open_view, name="dispute_open"),
    path("pool/", views.pool_view, name="pool"),
    path("redistribute/", views.redistribute_view, name="redistribute"),
    path("stats/", views.stats_view, name="stats"),
    path("settings/", views.settings_view, name="settings"),
]
