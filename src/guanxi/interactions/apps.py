from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteractionsConfig(AppConfig):
    name = "guanxi.interactions"
    label = "interactions"
    verbose_name = _("Interactions and follow-up")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.timeline import register_timeline_source
        from guanxi.customers.hooks import register_customer_hook

        from .hooks import schedule_on_customer_change
        from .timeline import interaction_events, promise_events

        register_timeline_source("interaction", _("Interactions"), interaction_events)
        register_timeline_source("promise", _("Promises"), promise_events)
        register_customer_hook("interactions.cadence", schedule_on_customer_change)

        from . import home_panels

        home_panels.register()
