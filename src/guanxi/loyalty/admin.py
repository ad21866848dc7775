from django.contrib import admin

from .models import EarningRule, LoyaltySettings, Reward, Tier


@admin.register(LoyaltySettings)
class LoyaltySettingsAdmin(admin.ModelAdmin):
    list_display = ("tier_basis", "tier_window_days", "tier_period_months", "expiry_months")


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "points", "per_amount", "active")


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = (
        "rank",
        "code",
        "name_zh",
        "name_en",
        "threshold",
        "keep_threshold",
        "multiplier",
    )


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "points", "discount_amount", "valid_until", "active")
