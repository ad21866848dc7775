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

        from . import home_panels

        home_panels.register()
