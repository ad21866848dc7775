from django.contrib import admin

from .models import Segment


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Segments are configurable per business (SPEC C1)."""

    list_display = ("code", "name_zh", "name_en", "position")
