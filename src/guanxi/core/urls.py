from django.contrib.auth import views as auth_views
from django.urls import path

from . import calendar_views, help_views, search_views, views, webhook_views

urlpatterns = [
    path("", views.home, name="home"),
    path("tour/dismiss/", views.tour_dismiss_view, name="tour_dismiss"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("search/", search_views.search_view, name="global_search"),
    path("guide/", help_views.help_view, name="help"),
    path("audit/", views.audit_log, name="audit_log"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_edit, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", views.user_toggle_active, name="user_toggle_active"),
    path("users/<int:pk>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("business-calendar/", calendar_views.calendar_view, name="business_calendar"),
    path("webhooks/", webhook_views.webhook_list, name="webhook_list"),
    path("webhooks/<int:pk>/active/", webhook_views.webhook_toggle, name="webhook_toggle"),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        webhook_views.webhook_replay_view,
        name="webhook_replay",
    ),
]
