from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from healthcode import regions
from healthcode.errors import DomainError
from venues.models import Category, EntryRule
from venues.services import clean_credit_code


class VenueForm(forms.Form):
    full_name = forms.CharField(
        label=_("场所全称"), max_length=100, error_messages={"required": _("请填写场所全称。")}
    )
    region_code = forms.CharField(
        label=_("所在地行政区划代码"),
        max_length=6,
        help_text=_("6位区县代码，例如 330106（杭州市西湖区）"),
        widget=forms.TextInput(attrs=regions.picker_attrs()),
    )
    address = forms.CharField(
        label=_("详细地址"), max_length=200, error_messages={"required": _("请填写详细地址。")}
    )
    category = forms.ChoiceField(label=_("场所类别"), choices=Category.choices)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=40,
        help_text=_("18位，见营业执照或登记证书"),
        error_messages={"required": _("请填写统一社会信用代码。")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    entry_rule = forms.ChoiceField(
        label=_("核酸查验要求"), choices=EntryRule.choices, initial=EntryRule.POLICY
    )
    requires_vaccination = forms.BooleanField(
        label=_("要求接种新冠疫苗"),
        required=False,
        help_text=_("勾选后，查不到新冠疫苗接种记录的人不能入场（默认不要求）"),
    )

    def clean_full_name(self):
        name = " ".join(self.cleaned_data["full_name"].split())
        if len(name) < 2:
            raise ValidationError(_("请填写场所全称（至少2个字）。"))
        return name

    def clean_region_code(self):
        return regions.clean_county_code(self.cleaned_data["region_code"])

    def clean_credit_code(self):
        try:
            return clean_credit_code(self.cleaned_data["credit_code"])
        except DomainError as exc:
            raise ValidationError(exc.message) from None

    @classmethod
    def initial_for(cls, venue) -> dict:
        return {name: getattr(venue, name) for name in cls.base_fields}


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回原因"),
        max_length=200,
        error_messages={"required": _("请填写驳回原因。")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BindForm(forms.Form):
    declaration_code = forms.CharField(
        label=_("场所申报码"),
        max_length=20,
        error_messages={"required": _("请输入场所管理员提供的申报码。")},
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )


class VaccinationRequirementForm(forms.Form):
    """An approved venue's administrator switches the vaccination requirement on or off."""

    requires_vaccination = forms.BooleanField(
        label=_("要求接种新冠疫苗"),
        required=False,
        help_text=_("勾选后，查不到新冠疫苗接种记录的人不能入场"),
    )
