from django.urls import path

from . import views

app_name = "transfer"
urlpatterns = [
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_job_view, name="job"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="mapping"),
    path("imports/<int:pk>/progress/", views.import_progress, name="progress"),
    path("imports/<int:pk>/errors.csv", views.import_error_report, name="errors"),
    path("imports/<int:pk>/rerun/", views.import_rerun_view, name="rerun"),
    path("customers/export/", views.customer_export, name="customer_export"),
]
