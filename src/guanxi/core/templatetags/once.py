"""`{% once_token %}`: a one-time token in a form, so a double click or a browser retry of the
same rendered form takes effect once (core.middleware.IdempotencyMiddleware)."""

import uuid

from django import template
from django.utils.html import format_html

from guanxi.core.middleware import FORM_TOKEN_FIELD

register = template.Library()


@register.simple_tag
def once_token() -> str:
    return format_html(
        '<input type="hidden" name="{}" value="{}">', FORM_TOKEN_FIELD, uuid.uuid4().hex
    )
