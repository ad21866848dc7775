from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("churn/", views.watch_list_view, name="watch_list"),
    path("churn/<int:pk>/decide/", views.warning_decide_view, name="warning_decide"),
    path("checklist/", views.checklist_view, name="checklist"),
    path("profitability/", views.profitability_view, name="profitability"),
]
