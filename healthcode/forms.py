from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import idnumbers, regions
from healthcode.idnumbers import IdType

# 14天内接触史: "none" is an explicit answer and cannot be combined with the others.
CONTACT_NONE = "none"
CONTACT_CHOICES = [
    (CONTACT_NONE, _("无以上情况")),
    ("confirmed_case", _("接触过确诊或疑似病例")),
    ("risk_area", _("来自或途经中高风险地区")),
    ("abroad", _("有境外旅居史")),
]
_CONTACT_FIELDS = {
    "confirmed_case": "contact_confirmed_case",
    "risk_area": "contact_risk_area",
    "abroad": "contact_abroad",
}


def contact_history_flags(answers: list[str]) -> dict[str, bool]:
    """The resident's checked answers as model fields; shared by the page and the API."""
    if not answers:
        raise ValidationError(_("请选择14天内接触史；没有请选“无以上情况”。"), code="required")
    if CONTACT_NONE in answers and len(answers) > 1:
        raise ValidationError(_("“无以上情况”不能与其他选项同时选择。"), code="contact")
    return {field: key in answers for key, field in _CONTACT_FIELDS.items()}


def clean_id_fields(id_type: str, id_number: str) -> str:
    return idnumbers.clean_id_number(id_type, id_number, today=timezone.localdate())


class RegistrationForm(forms.Form):
    name = forms.CharField(
        label=_("姓名"), max_length=64, error_messages={"required": _("请填写姓名。")}
    )
    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices)
    id_number = forms.CharField(
        label=_("证件号码"), max_length=40, error_messages={"required": _("请填写证件号码。")}
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        error_messages={"required": _("请填写手机号码。")},
    )
    nationality = forms.CharField(
        label=_("国籍（地区）"),
        max_length=64,
        initial="中国",
        error_messages={"required": _("请填写国籍（地区）。")},
    )
    region_code = forms.CharField(
        label=_("居住地行政区划代码"),
        max_length=6,
        help_text=_("6位区县代码，例如 110105（北京市朝阳区）"),
        widget=forms.TextInput(attrs=regions.picker_attrs()),
    )
    address = forms.CharField(
        label=_("居住地址"), max_length=200, error_messages={"required": _("请填写居住地址。")}
    )
    contact_history = forms.MultipleChoiceField(
        label=_("14天内接触史"),
        choices=CONTACT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请选择14天内接触史；没有请选“无以上情况”。")},
    )
    contact_note = forms.CharField(
        label=_("补充说明（选填）"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    password = forms.CharField(label=_("登录密码"), widget=forms.PasswordInput, strip=False)
    password_again = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, strip=False)
    commitment = forms.BooleanField(
        label=_("本人承诺：以上信息真实、准确、完整，如有瞒报、谎报，愿承担相应法律责任。"),
        error_messages={"required": _("请阅读并勾选承诺。")},
    )

    def clean_name(self):
        return idnumbers.clean_name(self.cleaned_data["name"])

    def clean_phone(self):
        return idnumbers.clean_phone(self.cleaned_data["phone"])

    def clean_region_code(self):
        return regions.clean_county_code(self.cleaned_data["region_code"])

    def clean_contact_history(self):
        return contact_history_flags(self.cleaned_data["contact_history"])

    def clean(self):
        data = super().clean()
        if "id_type" in data and "id_number" in data:
            try:
                data["id_number"] = clean_id_fields(data["id_type"], data["id_number"])
            except ValidationError as exc:
                self.add_error("id_number", exc)
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("两次输入的密码不一致。"))
        elif password:
            try:
                password_validation.validate_password(password)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "id_type": data["id_type"],
            "id_number": data["id_number"],
            "phone": data["phone"],
            "password": data["password"],
            "nationality": data["nationality"].strip(),
            "region_code": data["region_code"],
            "address": data["address"].strip(),
            "contact_note": data["contact_note"].strip(),
            "committed": data["commitment"],
            **data["contact_history"],
        }


class PhoneLoginForm(AuthenticationForm):
    """Log-in by mobile phone number; the number is normalised like at registration."""

    username = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "username"}
        ),
    )
    error_messages = {
        "invalid_login": _("手机号码或密码不正确。"),
        "inactive": _("该账号已停用。"),
    }

    def clean_username(self):
        raw = self.cleaned_data["username"]
        try:
            return idnumbers.clean_phone(raw)
        except ValidationError:
            return raw  # authentication then fails with the generic message


class RiskFlagFileForm(forms.Form):
    file = forms.FileField(
        label=_("风险人员名单文件"),
        help_text=_(
            "CSV（UTF-8 或 GBK，首行为表头）或 JSON；列：source, external_id, id_type, "
            "id_number, name, kind, starts_at, ends_at, reason。每批最多 10,000 条。"
        ),
    )


class ResidentLookupForm(forms.Form):
    """Staff find a resident by ID number through a POST, so that the number never sits in a
    URL (browser history, access logs, Referer)."""

    id_type = forms.ChoiceField(label=_("证件类型"), choices=IdType.choices)
    id_number = forms.CharField(label=_("证件号码"), max_length=40)

    def clean(self):
        data = super().clean()
        if data.get("id_type") and data.get("id_number"):
            try:
                data["id_number"] = clean_id_fields(data["id_type"], data["id_number"])
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return data
