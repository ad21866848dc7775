from django.contrib import admin

from .models import EmailSuppression


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(admin.ModelAdmin):
    """Hard-bounced addresses: delete a row to write to that address again."""

    list_display = ("address", "status", "diagnostic", "at")
    search_fields = ("address",)
    readonly_fields = ("address", "customer", "recipient", "status", "diagnostic", "at")

    def has_add_permission(self, request):
        return False
