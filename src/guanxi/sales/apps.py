from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from guanxi.core.timeline import register_timeline_source
        from guanxi.core.webhooks import register_webhook_event
        from guanxi.interactions.cadence import register_fact_provider

        from .cadence import deal_facts
        from .timeline import deal_events

        register_timeline_source("deal", _("Deals, quotes and payments"), deal_events)
        register_fact_provider(deal_facts)
        register_webhook_event("deal.stage_changed", _("Deal stage changed"))
        register_webhook_event("payment.recorded", _("Payment recorded"))

        from . import panels

        panels.register()
