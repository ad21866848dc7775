from django.urls import path

from . import public_views

app_name = "service_public"
urlpatterns = [
    path("", public_views.help_view, name="help"),
    path("articles/<int:pk>/", public_views.help_article_view, name="article"),
    path("articles/<int:pk>/feedback/", public_views.help_feedback_view, name="feedback"),
    path("contact/", public_views.contact_view, name="contact"),
    path("captcha/", public_views.captcha_challenge_view, name="captcha"),
    path("survey/<str:token>/", public_views.survey_view, name="survey"),
]
