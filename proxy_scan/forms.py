"""Forms: 老幼助查 and family bindings (代办)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode.idnumbers import IdType, clean_name, normalise, parse_resident_id
from proxy_scan.models import Relationship

MAINLAND_ONLY = _(
    "老幼助查仅适用于中国大陆居民身份证（18位）。持护照、港澳台居民证件或外国人永久居留"
    "身份证的人员，请出示本人健康码或由场所工作人员人工登记。"
)
# 18-digit numbers that look like resident IDs but are not mainland ones: the residence
# permits of Hong Kong, Macao and Taiwan residents (810000, 820000, 830000) and the 2017
# foreign permanent residence card (starts with 9).
_NOT_MAINLAND_PREFIXES = ("810000", "820000", "830000", "9")


class ElderLookupForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=64)
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=32,
        help_text=_("仅限60岁以上（含60岁）老人或16岁以下（含16岁）儿童的居民身份证。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def clean_name(self):
        return clean_name(self.cleaned_data["name"])

    def clean_id_type(self):
        if self.cleaned_data["id_type"] != IdType.RESIDENT_ID:
            raise ValidationError(MAINLAND_ONLY, code="not_mainland")
        return IdType.RESIDENT_ID

    def clean_id_number(self):
        number = normalise(self.cleaned_data["id_number"])
        if "id_type" not in self.cleaned_data:
            return number  # another document type: refused on that field, nothing to check
        if len(number) == 18 and number.startswith(_NOT_MAINLAND_PREFIXES):
            raise ValidationError(MAINLAND_ONLY, code="not_mainland")
        parse_resident_id(number, today=timezone.localdate())
        return number


class FamilyBindForm(forms.Form):
    """Required fields only: family_member_bind cleans the identity (healthcode's cleaners)
    and its DomainError lands on the field it names."""

    name = forms.CharField(
        label=_("姓名"), max_length=64, error_messages={"required": _("请填写姓名。")}
    )
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices)
    id_number = forms.CharField(
        label=_("证件号码"), max_length=40, error_messages={"required": _("请填写证件号码。")}
    )
    relationship = forms.ChoiceField(
        label=_("与您的关系"),
        choices=Relationship.choices,
        error_messages={"invalid_choice": _("请选择与您的关系。")},
    )


class ProxyScanForm(forms.Form):
    """帮扫: one of four ways, each section of the page posting its own fields. All optional
    here: ``proxy_checkin`` cleans them and its DomainError lands on the field it names."""

    way = forms.CharField(max_length=16)
    name = forms.CharField(label=_("姓名"), max_length=64, required=False)
    id_number = forms.CharField(label=_("身份证号码"), max_length=40, required=False)
    citizen_card = forms.CharField(label=_("市民卡号"), max_length=40, required=False)
    token = forms.CharField(label=_("纸质健康码内容"), max_length=2000, required=False)
    binding_id = forms.CharField(max_length=64, required=False)
