"""``{{ code|region_name }}`` (浙江省杭州市西湖区) and ``{{ code|region_name:"short" }}``
(杭州市西湖区) for pages that show a GB/T 2260 code to people; see healthcode.regions."""

from django import template

from healthcode import regions

register = template.Library()


@register.filter
def region_name(code: str, form: str = "") -> str:
    return regions.region_name(code, short=form == "short")


@register.filter
def region_names(codes, form: str = "") -> list[str]:
    """The names of a list of codes (a grid worker's or officer's regions)."""
    return [regions.region_name(code, short=form == "short") for code in codes or ()]
