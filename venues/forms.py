from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from healthcode import idnumbers
from venues.models import Category, EntryRule


class VenueForm(forms.Form):
    full_name = forms.CharField(
        label=_("场所全称"), max_length=100, error_messages={"required": _("请填写场所全称。")}
    )
    region_code = forms.CharField(
        label=_("所在地行政区划代码"),
        max_length=6,
        help_text=_("6位区县代码，例如 330106（杭州市西湖区）"),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    address = forms.CharField(
        label=_("详细地址"), max_length=200, error_messages={"required": _("请填写详细地址。")}
    )
    category = forms.ChoiceField(label=_("场所类别"), choices=Category.choices)
    entry_rule = forms.ChoiceField(
        label=_("核酸查验要求"), choices=EntryRule.choices, initial=EntryRule.POLICY
    )

    def clean_full_name(self):
        name = " ".join(self.cleaned_data["full_name"].split())
        if len(name) < 2:
            raise ValidationError(_("请填写场所全称（至少2个字）。"))
        return name

    def clean_region_code(self):
        return idnumbers.clean_region_code(self.cleaned_data["region_code"])


class BindForm(forms.Form):
    declaration_code = forms.CharField(
        label=_("场所申报码"),
        max_length=20,
        error_messages={"required": _("请输入场所管理员提供的申报码。")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
