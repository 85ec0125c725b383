import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcode import idnumbers
from tracing.models import DEFAULT_THRESHOLD_MINUTES

LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self):
        super().__init__(format="%Y-%m-%dT%H:%M")


class CaseForm(forms.Form):
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=idnumbers.IdType.choices, initial=idnumbers.IdType.RESIDENT_ID
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        error_messages={"required": _("请填写病例的证件号码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    onset_at = forms.DateTimeField(
        label=_("发病或首次阳性采样时间（北京时间）"),
        input_formats=LOCAL_INPUT,
        widget=LocalDateTimeInput(),
        error_messages={"required": _("请填写发病时间。"), "invalid": _("时间格式不正确。")},
    )
    lookback_to = forms.DateTimeField(
        label=_("隔离时间（追溯终点，留空为现在）"),
        input_formats=LOCAL_INPUT,
        widget=LocalDateTimeInput(),
        required=False,
        error_messages={"invalid": _("时间格式不正确。")},
    )
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def clean_onset_at(self):
        return _recent(self.cleaned_data["onset_at"])

    def clean_lookback_to(self):
        value = self.cleaned_data.get("lookback_to")
        return _recent(value) if value else value

    def clean(self):
        data = super().clean()
        if "id_number" in data and "id_type" in data:
            try:
                data["id_number"] = idnumbers.clean_id_number(
                    data["id_type"], data["id_number"], today=timezone.localdate()
                )
            except ValidationError as exc:
                self.add_error("id_number", exc.messages[0])
        return data


EARLIEST = dt.date(2019, 12, 1)  # before COVID-19 there is nothing to trace


def _recent(value):
    if value.date() < EARLIEST:
        raise ValidationError(_("时间过早，请核对。"))
    return value


class TraceForm(forms.Form):
    threshold_minutes = forms.IntegerField(
        label=_("同一场所重叠至少（分钟）"),
        min_value=1,
        max_value=24 * 60,
        initial=DEFAULT_THRESHOLD_MINUTES,
        error_messages={
            "required": _("请填写重叠阈值。"),
            "min_value": _("重叠阈值应在 1 到 1440 分钟之间。"),
            "max_value": _("重叠阈值应在 1 到 1440 分钟之间。"),
            "invalid": _("请填写整数分钟。"),
        },
    )
    second_round = forms.BooleanField(label=_("同时追踪次密接（第二轮）"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由（记录在案）"),
        max_length=300,
        error_messages={"required": _("请填写理由。")},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
