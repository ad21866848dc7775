from django import forms
from django.utils.translation import gettext_lazy as _

from .models import OrgUnit, Role, User
from .validation import column_limit


class UserForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")},
    )
    display_name = forms.CharField(
        label=_("Display name"), max_length=column_limit(User, "display_name")
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    org_unit = forms.ModelChoiceField(label=_("Organisation unit"), queryset=OrgUnit.objects.all())
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    password = forms.CharField(
        label=_("Initial password"), widget=forms.PasswordInput, required=False
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["password"]
            self.fields["username"].disabled = True
        else:
            self.fields["password"].required = True
        for name, field in self.fields.items():
            if name != "roles":
                field.widget.attrs.setdefault(
                    "class",
                    "form-select" if isinstance(field.widget, forms.Select) else "form-control",
                )


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
