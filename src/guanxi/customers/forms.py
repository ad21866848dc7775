from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import Role, User
from guanxi.core.validation import ValidatedFormMixin

from .keys import InvalidPhone, normalize_phone
from .models import Customer, ImportantDate, Segment, display_phone
from .permissions import can_choose_owner, owner_units
from .regions import cities, districts, provinces, region_problem
from .services import EDITABLE_FIELDS

REGION_FIELDS = ("province", "city", "district")

# Form field → service field, where they differ.
FIELD_MAP = {"segment_id": "segment", "referred_by_id": "referred_by", "owner_id": "owner"}


class CustomerForm(ValidatedFormMixin, forms.ModelForm):
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; +86 is assumed. The first is the primary phone."),
    )
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separated by commas."), max_length=500
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    allow_similar = forms.BooleanField(
        label=_("Yes, this is a different customer: create it anyway"), required=False
    )

    class Meta:
        model = Customer
        # Exactly what the services let a user set (a foreign key by its field's name).
        fields = [FIELD_MAP.get(name, name) for name in EDITABLE_FIELDS]
        widgets = {
            "birthday": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "contact_window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "contact_window_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "referred_by": forms.NumberInput(),
        }

    def __init__(self, *args, actor: User, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.all()
        self.fields["referred_by"] = forms.IntegerField(
            label=_("Referred by (customer number)"),
            required=False,
            min_value=1,
            initial=self.instance.referred_by_id,
        )
        if creating and can_choose_owner(actor):
            scope = User.objects.filter(is_active=True, roles__role=Role.SALES).distinct()
            units = owner_units(actor)
            if units is not None:
                scope = scope.filter(org_unit_id__in=units)
            self.fields["owner"].queryset = scope.order_by("display_name")
        else:
            del self.fields["owner"]
        if not creating:
            del self.fields["allow_similar"]
            numbers = self.instance.phones.order_by("-is_primary", "id").values_list(
                "number", flat=True
            )
            # A switchboard line as people write it (010-8888 6666 转 801), not ;ext=801.
            self.fields["phones"].initial = "\n".join(
                display_phone(n) if ";ext=" in n else n for n in numbers
            )
            self.fields["tags"].initial = ", ".join(
                self.instance.tags.values_list("name", flat=True)
            )
        self._region_choices()
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def _region_value(self, name: str) -> str:
        if self.is_bound:
            return (self.data.get(self.add_prefix(name)) or "").strip()
        return str(self.initial.get(name) or getattr(self.instance, name, "") or "")

    def _region_choices(self) -> None:
        """省/市/区 as three lists, each under the one above (customers.regions); choosing a
        province or city reloads the lists below it (htmx, `customers:regions`). The
        record's own value stays a choice even when the lists do not have it."""
        province, city = self._region_value("province"), self._region_value("city")
        options = {
            "province": provinces(),
            "city": cities(province) if province else [],
            "district": districts(province, city) if province and city else [],
        }
        url = reverse("customers:regions")
        for name in REGION_FIELDS:
            if name not in self.fields:
                continue
            names = list(options[name])
            own = getattr(self.instance, name, "") if self.instance.pk else ""
            if own and own not in names:
                names.append(own)
            old = self.fields[name]
            attrs = {"class": "form-select", "data-region": name}
            if name != "district":
                attrs.update(
                    {
                        "hx-get": url,
                        "hx-trigger": "change",
                        "hx-target": "#region-fields",
                        "hx-swap": "outerHTML",
                        "hx-include": "#region-fields",
                    }
                )
            self.fields[name] = forms.ChoiceField(
                label=old.label,
                required=False,
                choices=[("", "—"), *((n, n) for n in names)],
                widget=forms.Select(attrs=attrs),
            )

    def clean(self):
        cleaned = super().clean()
        if all(name in self.fields for name in REGION_FIELDS):
            values = [cleaned.get(name) or "" for name in REGION_FIELDS]
            own = [getattr(self.instance, name, "") or "" for name in REGION_FIELDS]
            problem = region_problem(*values)
            if problem and values != own:
                field, _level = problem
                messages = {
                    "province": _("Choose a province from the list."),
                    "city": _("This city is not in the chosen province."),
                    "district": _("This district is not in the chosen city."),
                }
                self.add_error(field, messages[field])
        return cleaned

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k in self._meta.fields}
        segment = data.pop("segment", None)
        data["segment_id"] = segment.pk if segment else None
        data["referred_by_id"] = data.pop("referred_by", None)
        return data

    def clean_phones(self) -> str:
        """Check every phone with the other fields, so all errors show in one round."""
        raw = self.cleaned_data.get("phones", "")
        bad = []
        for line in raw.replace(",", "\n").splitlines():
            if line.strip():
                try:
                    normalize_phone(line)
                except InvalidPhone:
                    bad.append(line.strip())
        if bad:
            raise forms.ValidationError(
                _("Not valid phone numbers: %(phones)s") % {"phones": ", ".join(bad)}
            )
        return raw

    def phone_list(self) -> list[str]:
        return [
            line
            for line in self.cleaned_data.get("phones", "").replace(",", "\n").splitlines()
            if line.strip()
        ]

    def tag_list(self) -> list[str]:
        return [
            t for t in self.cleaned_data.get("tags", "").replace("，", ",").split(",") if t.strip()
        ]


class ImportantDateForm(ValidatedFormMixin, forms.ModelForm):
    class Meta:
        model = ImportantDate
        fields = ["kind", "label", "date", "yearly"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}


class MergeForm(forms.Form):
    other = forms.IntegerField(label=_("Customer number to merge into this one"), min_value=1)
