from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = _("Customer service")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.timeline import register_timeline_source
        from guanxi.core.webhooks import register_webhook_event
        from guanxi.customers.warnings import register_customer_action, register_customer_warning
        from guanxi.reception.register_actions import register_visit_action

        from . import home_panels
        from .hooks import ticket_actions, ticket_warnings, visit_ticket_actions
        from .timeline import ticket_events

        register_timeline_source("ticket", _("Service tickets"), ticket_events)
        register_webhook_event("ticket.created", _("Ticket created"))
        register_webhook_event("ticket.resolved", _("Ticket resolved"))
        register_webhook_event("sla.breached", _("SLA breached"))
        register_customer_warning("service", ticket_warnings)
        register_customer_action("service", ticket_actions)
        from guanxi.core.audit_display import (
            register_audit_field,
            register_audit_values,
            register_audit_verb,
        )

        from .models import TicketType

        register_audit_verb("sla.policy", _("SLA policy changed"))
        register_audit_verb("service.skills", _("Agent's skills changed"))
        register_audit_field("types", _("Ticket types"))
        register_audit_field("products", _("Products"))
        register_audit_values("types", dict(TicketType.choices))
        register_visit_action("service", visit_ticket_actions)
        home_panels.register()
