from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "guanxi.reception"
    label = "reception"
    verbose_name = _("Reception desk and ownership")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.timeline import register_timeline_source
        from guanxi.core.webhooks import register_webhook_event
        from guanxi.customers.ownership import register_protection_policy

        from .ownership import protection_policy
        from .timeline import visit_events

        register_timeline_source("visit", _("Visits and calls"), visit_events)
        from guanxi.customers.page_panels import register_customer_panel

        from .views import customer_panel

        register_customer_panel("reception", customer_panel)
        # Apps above reception (loyalty's visit points) follow this event through
        # core.events; reception knows none of them.
        register_webhook_event("visit.received", _("Visitor received at the desk"))
        # The first registration's protection period (首访原则, C3), asked for by the
        # ownership primitive when a record gets its first owner.
        register_protection_policy(protection_policy)

        from . import home_panels

        home_panels.register()
