"""Page forms for appeals. Limits and messages are the services' (one set for page and API);
the form only carries the input, and the browser's own limits (maxlength, accept) help."""

from django import forms
from django.utils.translation import gettext_lazy as _

from appeals.models import TEXT_MAX


class AppealForm(forms.Form):
    fact = forms.CharField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(
        label=_("申诉理由"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": TEXT_MAX}),
        help_text=_("请说明您认为哪里不对，例如当时不在该地、检测结果有误。最多 500 字。"),
    )
    photo = forms.FileField(
        label=_("照片（可选）"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("如有证明材料可拍照上传：JPG、PNG 或 WebP，不超过 5 MB。"),
    )


class DecisionForm(forms.Form):
    answer = forms.CharField(
        label=_("答复（申诉人可见）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
    )
