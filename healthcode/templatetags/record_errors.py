"""``{{ field|risk_flag_field }}``: the Chinese name of a field of an imported risk-flag record,
for the import report (the rejects are keyed by the record's field names: ``id_number``,
``kind`` …). A key that is not a field (``non_field_errors``, ``record``) names nothing."""

from django import template
from django.core.exceptions import FieldDoesNotExist

from healthcode.models import RiskFlag

register = template.Library()


@register.filter
def risk_flag_field(name: str) -> str:
    try:
        return str(RiskFlag._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return ""
