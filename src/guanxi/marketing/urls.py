from django.urls import path

from . import views

app_name = "marketing"
urlpatterns = [
    # Public: links in messages and the embeddable form (short paths for SMS).
    path("m/u/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("m/o/<str:token>.gif", views.open_view, name="open"),
    path("m/c/<str:token>/", views.click_view, name="click"),
    path("m/sms/inbound/", views.sms_inbound_view, name="sms_inbound"),
    path("m/bounce/inbound/", views.bounce_inbound_view, name="bounce_inbound"),
    path("m/f/<slug:key>/", views.lead_form_view, name="lead_form"),
    # Marketers.
    path("marketing/", views.home_view, name="home"),
    path("marketing/segments/new/", views.segment_edit_view, name="segment_new"),
    path("marketing/segments/preview/", views.segment_preview_view, name="segment_preview"),
    path("marketing/segments/<int:pk>/", views.segment_edit_view, name="segment"),
    path(
        "marketing/segments/<int:pk>/rebuild/", views.segment_rebuild_view, name="segment_rebuild"
    ),
    path("marketing/segments/<int:pk>/export/", views.segment_export_view, name="segment_export"),
    path("marketing/segments/<int:pk>/grant/", views.segment_grant_view, name="segment_grant"),
    path("marketing/templates/new/", views.template_edit_view, name="template_new"),
    path("marketing/templates/<int:pk>/", views.template_edit_view, name="template"),
    path("marketing/campaigns/new/", views.campaign_new_view, name="campaign_new"),
    path("marketing/campaigns/<int:pk>/", views.campaign_view, name="campaign"),
    path("marketing/campaigns/<int:pk>/letters/", views.letters_view, name="letters"),
    path("marketing/birthdays/", views.birthday_settings_view, name="birthdays"),
    path("marketing/calls/", views.calls_view, name="calls"),
    path("marketing/forms/", views.lead_forms_view, name="forms"),
    path("marketing/customers/<int:customer_pk>/consent/", views.consent_view, name="consent"),
    path(
        "marketing/customers/<int:customer_pk>/consent.csv",
        views.consent_export_view,
        name="consent_export",
    ),
]
