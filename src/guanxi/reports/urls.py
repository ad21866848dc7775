from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("funnel/", views.funnel_view, name="funnel"),
    path("staff/", views.staff_view, name="staff"),
    path("revenue/", views.revenue_view, name="revenue"),
    path("forecast/", views.forecast_view, name="forecast"),
    path("pivot/", views.pivot_view, name="pivot"),
    path("pivot/save/", views.pivot_save_view, name="pivot_save"),
    path("pivot/<int:pk>/delete/", views.pivot_delete_view, name="pivot_delete"),
]
