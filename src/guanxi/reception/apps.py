from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "guanxi.reception"
    label = "reception"
    verbose_name = _("Reception desk and ownership")

    def ready(self):
        from guanxi.core.timeline import register_timeline_source
        from guanxi.customers.hooks import register_customer_hook

        from .services import protect_new_customer
        from .timeline import visit_events

        register_timeline_source("visit", _("Visits and calls"), visit_events)
        register_customer_hook("reception.protection", protect_new_customer)

        from . import panels

        panels.register()
