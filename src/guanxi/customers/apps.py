from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from guanxi.core.timeline import register_timeline_source

        from .timeline import record_events

        register_timeline_source("record", _("Record history"), record_events)

        from . import panels

        panels.register()
