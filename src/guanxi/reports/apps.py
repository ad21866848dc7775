from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "guanxi.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.events import register_event_listener
        from guanxi.customers.hooks import register_customer_hook

        from . import datasets, rollup

        datasets.register_builtin()
        register_event_listener("order.created", "reports.rollup", rollup.on_order_created)
        register_event_listener("customer.merged", "reports.rollup", rollup.on_customer_merged)
        register_customer_hook("reports.rollup", rollup.on_owner_change)
