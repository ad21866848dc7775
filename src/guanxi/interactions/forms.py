from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.core.validation import column_limit
from guanxi.customers.models import Customer

from .models import Interaction

PROMISE_ROWS = 3


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"), choices=Interaction.Kind.choices, initial=Interaction.Kind.CALL_OUT
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    outcome = forms.ChoiceField(
        label=_("Outcome (calls)"), choices=Interaction.Outcome.choices, required=False
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=column_limit(Interaction, "summary"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_step = forms.CharField(
        label=_("Next step"), max_length=column_limit(Interaction, "next_step"), required=False
    )
    next_follow_up_at = forms.DateTimeField(
        label=_("Next follow-up (empty: by the cadence rules)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    relationship = forms.ChoiceField(
        label=_("Relationship type"), choices=Customer.Relationship.choices, required=False
    )

    def __init__(self, *args, can_set_relationship: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_set_relationship:
            # Only the owner or a manager judges the relationship (the service refuses others).
            del self.fields["relationship"]
        for i in range(PROMISE_ROWS):
            self.fields[f"promise_{i}"] = forms.CharField(
                label=_("Promise (承诺)"),
                max_length=300,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": _("Promise made (承诺), if any")}),
            )
            self.fields[f"promise_due_{i}"] = forms.DateField(
                label=_("due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
            )
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault(
                "class",
                css + " form-control-sm" if css == "form-control" else css + " form-select-sm",
            )

    def promise_rows(self):
        return [(self[f"promise_{i}"], self[f"promise_due_{i}"]) for i in range(PROMISE_ROWS)]

    def promises(self) -> list:
        rows = []
        for i in range(PROMISE_ROWS):
            text = self.cleaned_data.get(f"promise_{i}", "")
            due = self.cleaned_data.get(f"promise_due_{i}")
            if text or due:
                rows.append((text, due))
        return rows
