from django import forms
from django.utils.translation import gettext_lazy as _

from healthcode.idnumbers import IdType
from proxy_scan.models import Relationship


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
