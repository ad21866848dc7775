from django.urls import path

from . import views

app_name = "loyalty"
urlpatterns = [
    path("customers/<int:pk>/", views.customer_points_view, name="customer"),
    path("customers/<int:pk>/redeem/", views.redeem_view, name="redeem"),
    path("customers/<int:pk>/visit/", views.visit_view, name="visit"),
]
