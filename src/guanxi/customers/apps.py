from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.visibility import CustomerSources, register_customer_sources

        from .models import Customer, CustomerShare, LoadBatch

        def pending_loads():
            return LoadBatch.objects.filter(published_at__isnull=True).values("id")

        register_customer_sources(
            CustomerSources(
                pending_loads=pending_loads,
                shared_with=lambda user_id: CustomerShare.objects.filter(user_id=user_id).values(
                    "customer_id"
                ),
                hidden_customers=lambda: Customer.objects.filter(
                    load_batch__in=pending_loads()
                ).values("id"),
            )
        )

        from guanxi.core.timeline import register_timeline_source

        from .timeline import record_events

        register_timeline_source("record", _("Record history"), record_events)

        from guanxi.core.search import register_search_kind

        from .global_search import customer_hits, customer_list_url

        register_search_kind(
            "customers",
            _("Customers"),
            customer_hits,
            order=10,
            icon="person",
            more_url=customer_list_url,
        )

        from guanxi.core.audit_display import register_audit_field, register_audit_values

        from .ownership import Reason

        # An ownership change's audit entry names its reason (customers/ownership.py).
        register_audit_field("reason", _("reason"))
        register_audit_values("reason", dict(Reason.choices))

        from guanxi.core.audit_display import register_audit_verb

        from .bulk import ACTIONS

        # A bulk run of the list (customers.bulk): what, on whom, how many done and refused.
        register_audit_verb("customers.bulk", _("Bulk action on customers"))
        register_audit_field("bulk_action", _("action"))
        register_audit_values("bulk_action", dict(ACTIONS))
        register_audit_field("bulk_target", _("to"))
        register_audit_field("bulk_done", _("done"))
        register_audit_field("bulk_refused", _("refused"))

        from . import home_panels

        home_panels.register()
