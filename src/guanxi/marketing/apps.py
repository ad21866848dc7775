from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "guanxi.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.timeline import register_timeline_source
        from guanxi.customers.contact import register_contact_policy, register_contact_sender
        from guanxi.customers.hooks import register_customer_hook

        from .models import SkipReason
        from .policy import policy_decide, policy_send
        from .segments import refresh_on_customer_change
        from .services import record_consent_change
        from .timeline import contact_events

        register_timeline_source("contact", _("Messages and consent"), contact_events)
        register_customer_hook("marketing.segments", refresh_on_customer_change)
        register_customer_hook("marketing.consent", record_consent_change)
        register_contact_policy(policy_decide)
        register_contact_sender(policy_send, SkipReason.choices)

        from . import home_panels

        home_panels.register()
