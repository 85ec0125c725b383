"""``{{ error|named_error:field }}``: a field's error as shown under it, naming the field.

Django's generic messages (该字段是必填项。, 确保该值不超过…) do not say which field they are
about: the required one becomes 请填写姓名。 / 请选择证件类型。, the others 证件类型：<message>.
The project's own messages already say what is wrong and are left as they are, so nothing is
said twice and no punctuation is doubled."""

from django import forms, template
from django.utils.translation import gettext as _

register = template.Library()

_PICKED = (forms.ChoiceField, forms.BooleanField, forms.FileField)


@register.filter
def named_error(error, bound_field) -> str:
    error, label = str(error), str(bound_field.label or "")
    field = bound_field.field
    if not label or label in error:
        return error
    if error == str(forms.Field.default_error_messages["required"]):
        named = _("请选择%(label)s。") if isinstance(field, _PICKED) else _("请填写%(label)s。")
        return named % {"label": label}
    if any(error.startswith(prefix) for prefix in _django_prefixes(field)):
        return _("%(label)s：%(error)s") % {"label": label, "error": error}
    return error


def _django_prefixes(field) -> set[str]:
    """How Django's own messages for this kind of field begin (up to their first parameter)."""
    found = set()
    for cls in type(field).__mro__:
        for message in getattr(cls, "default_error_messages", {}).values():
            prefix = str(message).split("%(")[0]
            if len(prefix) >= 4:
                found.add(prefix)
    for validator in field.validators:  # max_length and the like
        prefix = str(getattr(validator, "message", "")).split("%(")[0]
        if len(prefix) >= 4:
            found.add(prefix)
    return found
