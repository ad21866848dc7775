from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """`guanxi demo-data`: the top of the layers, so it may fill every app with a living
    office while no app (core least of all) depends on it."""

    name = "guanxi.demo"
    label = "demo"
    verbose_name = _("Demo data")
