from django.contrib import admin

from .models import InsightsSettings


@admin.register(InsightsSettings)
class InsightsSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "a_share_pct", "b_share_pct", "churn_days", "churn_k")
    readonly_fields = ("breakpoints", "computed_at")
