from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.timeline import register_timeline_source
        from guanxi.core.webhooks import register_webhook_event
        from guanxi.interactions.cadence import register_fact_provider

        from .cadence import deal_facts
        from .timeline import deal_events

        register_timeline_source("deal", _("Deals, quotes and payments"), deal_events)
        from guanxi.customers.page_panels import register_customer_panel

        from .views import deals_panel

        register_customer_panel("deals", deals_panel)
        register_fact_provider(deal_facts)
        register_webhook_event("deal.stage_changed", _("Deal stage changed"))
        register_webhook_event("payment.recorded", _("Payment recorded"))
        register_webhook_event("order.created", _("Order created"))

        from guanxi.core.search import register_search_kind

        from .global_search import deal_hits, unit_hits

        register_search_kind("deals", _("Deals"), deal_hits, order=20, icon="briefcase")
        register_search_kind("units", _("Units"), unit_hits, order=30, icon="building")

        from . import home_panels

        home_panels.register()
