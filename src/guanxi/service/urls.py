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
    path("tickets/<int:pk>/survey/", views.survey_record_view, name="survey_record"),
    path("tickets/<int:pk>/article/", views.ticket_article_view, name="link_article"),
    path("return-visits/", views.return_visits_view, name="return_visits"),
    path("return-visits/<int:pk>/close/", views.return_visit_view, name="return_visit_close"),
    path("kb/", views.kb_list_view, name="kb"),
    path("kb/new/", views.kb_edit_view, name="kb_create"),
    path("kb/<int:pk>/", views.kb_edit_view, name="kb_edit"),
    path("reports/", views.reports_view, name="reports"),
    path("sla-policies/", views.sla_policies_view, name="sla_policies"),
    path(
        "sla-policies/<str:type>/<str:priority>/",
        views.sla_policy_edit_view,
        name="sla_policy_edit",
    ),
    path("skills/", views.skills_view, name="skills"),
    path("skills/<int:user_id>/", views.skill_edit_view, name="skill_edit"),
]
