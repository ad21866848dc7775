from datetime import date, timedelta
from typing import cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.core.validation import column_limit

from .datasets import datasets
from .models import SavedPivot

EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)


class PeriodForm(forms.Form):
    """A report's period; by default the last 90 days up to today."""

    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - timedelta(days=89)
        for name in ("start", "end"):
            if not EARLIEST <= data[name] <= LATEST:
                self.add_error(name, _("Choose a date between 1900 and 2200."))
        if "start" in data and "end" in data and data["start"] > data["end"]:
            self.add_error("end", _("The end is before the start."))
        return data

    def period(self) -> tuple[date, date]:
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        today = timezone.localdate()
        return today - timedelta(days=89), today


class PivotForm(PeriodForm):
    dataset = forms.ChoiceField(label=_("Analyse"))
    rows = forms.ChoiceField(label=_("Rows"))
    columns = forms.ChoiceField(label=_("Columns"), required=False)
    measure = forms.ChoiceField(label=_("Measure"))
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def __init__(self, *args, allowed: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        available = {name: ds for name, ds in datasets().items() if name in allowed}
        self._set_choices("dataset", [(n, ds.label) for n, ds in available.items()])
        chosen = available.get(self.data.get("dataset") or next(iter(available), ""))
        dims = [(k, d.label) for k, d in chosen.dimensions.items()] if chosen else []
        self._set_choices("rows", dims)
        self._set_choices("columns", [("", _("(none)")), *dims])
        self._set_choices(
            "measure", [(k, m.label) for k, m in chosen.measures.items()] if chosen else []
        )

    def _set_choices(self, name: str, choices: list) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def clean(self):
        data = forms.Form.clean(self)
        if self.data.get("start") or self.data.get("end"):
            for name in ("start", "end"):
                value = data.get(name)
                if value and not EARLIEST <= value <= LATEST:
                    self.add_error(name, _("Choose a date between 1900 and 2200."))
            if data.get("start") and data.get("end") and data["start"] > data["end"]:
                self.add_error("end", _("The end is before the start."))
        return data


class SavePivotForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=column_limit(SavedPivot, "name"))
    shared = forms.BooleanField(label=_("Share with colleagues"), required=False)
