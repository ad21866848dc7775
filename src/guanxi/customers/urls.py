from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create_view, name="create"),
    path("columns/", views.list_columns_view, name="list_columns"),
    path("bulk/", views.customer_bulk_view, name="bulk"),
    path("regions/", views.region_fields_view, name="regions"),
    path("<int:pk>/cell/<str:field>/", views.customer_inline_edit_view, name="inline_edit"),
    path("views/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("<int:pk>/", views.customer_detail_view, name="detail"),
    path("<int:pk>/edit/", views.customer_edit_view, name="edit"),
    path("<int:pk>/timeline/", views.customer_timeline_view, name="timeline"),
    path("<int:pk>/reveal/", views.customer_reveal_view, name="reveal"),
    path("<int:pk>/archive/", views.customer_archive_view, name="archive"),
    path("<int:pk>/restore/", views.customer_restore_view, name="restore"),
    path("<int:pk>/share/", views.customer_share_view, name="share"),
    path("<int:pk>/dates/", views.customer_date_add_view, name="date_add"),
    path("<int:pk>/household/", views.customer_household_view, name="household"),
    path("<int:pk>/contacts/", views.customer_contact_add_view, name="contact_add"),
    path("<int:pk>/merge/", views.customer_merge_view, name="merge"),
]
