from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "guanxi.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from . import datasets

        datasets.register_builtin()
