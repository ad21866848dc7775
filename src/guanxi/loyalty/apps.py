from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "guanxi.loyalty"
    label = "loyalty"
    verbose_name = _("Loyalty")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.audit_display import register_audit_verb
        from guanxi.core.events import register_event_listener
        from guanxi.core.timeline import register_timeline_source
        from guanxi.core.webhooks import register_webhook_event
        from guanxi.customers.page_panels import register_customer_panel

        from . import listeners
        from .timeline import points_events
        from .views import loyalty_panel

        register_timeline_source("points", _("Points and tiers"), points_events)
        register_customer_panel("loyalty", loyalty_panel)
        register_webhook_event("tier.changed", _("Tier changed"))
        register_event_listener("payment.recorded", "loyalty.earn", listeners.on_payment)
        register_event_listener("deal.stage_changed", "loyalty.refund", listeners.on_deal_stage)
        register_event_listener("customer.merged", "loyalty.merge", listeners.on_customer_merged)
        register_event_listener("visit.received", "loyalty.visit", listeners.on_visit_received)
        register_audit_verb("points.earn_visit", _("Points earned for a visit"))
        register_audit_verb("points.redeem", _("Points redeemed"))
        register_audit_verb("points.refund", _("Points refunded"))
