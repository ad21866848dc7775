from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.validation import column_limit

from .models import Article, Channel, Priority, TicketType
from .services import LIMITS


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field.widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            field.widget.attrs.setdefault("class", "form-check-input")
            continue
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class TicketForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=TicketType.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial="normal")
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial="phone")
    subject = forms.CharField(label=_("Subject"), max_length=LIMITS["subject"])
    description = forms.CharField(
        label=_("Description"),
        max_length=LIMITS["description"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    order_ref = forms.CharField(
        label=_("Order or contract number"), max_length=LIMITS["order_ref"], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=LIMITS["body"], widget=forms.Textarea(attrs={"rows": 3})
    )
    internal = forms.BooleanField(label=_("Internal note (not for the customer)"), required=False)
    wait = forms.BooleanField(
        label=_("Then wait for the customer (the clock pauses)"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class ArticleForm(forms.Form):
    title_zh = forms.CharField(
        label=_("Title (Chinese)"), max_length=column_limit(Article, "title_zh")
    )
    title_en = forms.CharField(
        label=_("Title (English)"), max_length=column_limit(Article, "title_en"), required=False
    )
    body_zh = forms.CharField(
        label=_("Text (Chinese)"),
        max_length=column_limit(Article, "body_zh"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    body_en = forms.CharField(
        label=_("Text (English)"),
        max_length=column_limit(Article, "body_en"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    type = forms.ChoiceField(label=_("About"), choices=TicketType.choices)
    published = forms.BooleanField(label=_("Published on the public FAQ"), required=False)

    def __init__(self, *args, instance_data=None, **kwargs):
        if instance_data is not None and (not args or args[0] is None):
            kwargs["initial"] = {name: getattr(instance_data, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)
        _style(self)


def _hours_field(label) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=0, max_value=10000, max_digits=7, decimal_places=2
    )


class SlaPolicyForm(forms.Form):
    first_response_hours = _hours_field(_("First response within (working hours)"))
    resolution_hours = _hours_field(_("Resolution within (working hours)"))
    warn_before_hours = _hours_field(_("Warn this many working hours before each deadline"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class SkillForm(forms.Form):
    types = forms.MultipleChoiceField(
        label=_("Ticket types this agent handles"),
        choices=TicketType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    products = forms.MultipleChoiceField(
        label=_("Only for these products"),
        required=False,
        help_text=_("Leave empty for every product. A product-specific skill wins in assignment."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, product_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = list(product_choices)
        _style(self)
