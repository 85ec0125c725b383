"""``{% appeal_lines resident reasons as lines %}`` on the code page and the record: what each
reason's appeal says (one query), so healthcode's and records' views need not know appeals.
``{{ lines|appeal_for:reason.fact }}`` is the latest appeal of one reason, or None."""

from django import template
from django.utils import timezone

from appeals import selectors

register = template.Library()


@register.simple_tag
def appeal_lines(resident, reasons):
    return selectors.appeal_lines(resident=resident, reasons=reasons, now=timezone.now())


@register.simple_tag
def appealable_reasons(resident):
    return selectors.appealable_reasons(resident=resident)


@register.filter
def appeal_for(lines, fact):
    return lines.by_fact.get(fact) if lines and fact else None
