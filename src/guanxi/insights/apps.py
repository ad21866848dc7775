from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "guanxi.insights"
    label = "insights"
    verbose_name = _("Insights")

    def ready(self):
        # Imported here: apps.py loads before the models, and these modules import models.
        from guanxi.core.events import register_event_listener
        from guanxi.core.webhooks import register_webhook_event
        from guanxi.customers.list_filters import ListFilter, register_list_filter
        from guanxi.customers.page_panels import register_customer_panel

        from . import listeners
        from .selectors import abc_choices, filter_by, segment_choices, stage_choices
        from .views import value_panel

        register_customer_panel("insights", value_panel)
        register_webhook_event("churn.warned", _("Churn warning"))
        register_event_listener("payment.recorded", "insights.value", listeners.on_payment)
        register_event_listener("deal.stage_changed", "insights.value", listeners.on_deal_stage)
        register_event_listener("customer.merged", "insights.value", listeners.on_customer_merged)
        register_list_filter(ListFilter("abc", _("Value class"), abc_choices, filter_by("abc")))
        register_list_filter(
            ListFilter("rfm", _("RFM segment"), segment_choices, filter_by("segment"))
        )
        register_list_filter(
            ListFilter("lifecycle", _("Lifecycle"), stage_choices, filter_by("stage"))
        )

        from . import home_panels, my_day

        home_panels.register()
        # The next best action of the customers that call for work, in "my day".
        my_day.register()
