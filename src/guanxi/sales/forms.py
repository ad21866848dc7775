from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.formatting import local_date, money
from guanxi.core.validation import column_limit

from .models import Deal, Payment, Product, Quote


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class DealForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=column_limit(Deal, "title"))
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True), required=False
    )
    expected_close = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)


class DepositForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Deposit"),
        choices=[
            ("small_deposit", _("Small deposit (小定)")),
            ("large_deposit", _("Large deposit (大定)")),
        ],
    )
    amount = forms.DecimalField(
        label=_("Amount (CNY)"), max_digits=14, decimal_places=2, min_value=0
    )
    unit = forms.IntegerField(label=_("Unit"), required=False, widget=forms.Select)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", "—")] + [
            (u.pk, f"{u.code} · ¥{u.list_price}") for u in units
        ]
        _style(self)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (CNY)"), max_digits=14, decimal_places=2)
    method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices)
    receipt_number = forms.CharField(
        label=_("Receipt number"), max_length=column_limit(Payment, "receipt_number")
    )
    instalment = forms.IntegerField(label=_("Instalment"), required=False, widget=forms.Select)

    def __init__(self, *args, instalments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instalment"].widget.choices = [("", _("oldest due"))] + [
            (i.pk, f"{i.label} · {local_date(i.due_date)} · {money(i.outstanding)}")
            for i in instalments
        ]
        _style(self)


class QuoteForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True)
    )
    price = forms.DecimalField(label=_("Price (CNY)"), max_digits=14, decimal_places=2, min_value=0)
    note = forms.CharField(label=_("Note"), max_length=column_limit(Quote, "note"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self)
