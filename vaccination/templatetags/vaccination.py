"""The vaccination line (四码一屏) on pages whose views belong to other apps: the code page
includes ``vaccination/_code_line.html``, which asks this tag (one indexed query)."""

from django import template

from vaccination.selectors import vaccination_line

register = template.Library()


@register.simple_tag
def vaccination_line_of(resident) -> str:
    return vaccination_line(resident=resident) if resident is not None else ""
