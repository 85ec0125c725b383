"""Which regions a list of administrative-division codes (GB/T 2260) covers, for the roles
that look after regions (grid workers, health officers): a county code covers itself, a city
(xxxx00) or province (xx0000) code every code under it. One rule, used by all of them."""

import functools
import json
import operator
from functools import reduce
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from healthcode import idnumbers
from healthcode.engine import area_prefix


def covers(region_codes: list[str], region_code: str) -> bool:
    """True if one of ``region_codes`` covers ``region_code``."""
    return bool(region_code) and any(
        region_code.startswith(area_prefix(code)) for code in region_codes or ()
    )


def covered_q(field: str, region_codes: list[str]) -> Q:
    """The same rule as a query filter on ``field``; matches nothing for an empty list."""
    if not region_codes:
        return Q(pk__in=[])
    return reduce(
        operator.or_, (Q(**{f"{field}__startswith": area_prefix(code)}) for code in region_codes)
    )


# --- Names: the vendored GB/T 2260 table (healthcode/data/README.md says where it comes from) --

_TABLE = Path(__file__).resolve().parent / "data" / "regions_gbt2260.json"
# City-level rows that are not places (直辖市的市辖区, 省直辖县级行政区划 …): left out of names.
_PLACEHOLDER_CITIES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    """provinces (2-digit keys), cities (4) and counties (6); read once per process."""
    with _TABLE.open(encoding="utf-8") as f:
        return json.load(f)


@functools.lru_cache(maxsize=8192)
def _names(code: str) -> tuple[tuple[str, ...], bool] | None:
    """The names from the province down for a code in the table, and whether a real city
    level is among them; None for a code the table does not have."""
    table = _table()
    if len(code) != 6 or not code.isdigit() or code[:2] not in table["provinces"]:
        return None
    names = [table["provinces"][code[:2]]]
    if code[2:] == "0000":
        return tuple(names), False
    city = table["cities"].get(code[:4])
    county = table["counties"].get(code)
    if city is None or (county is None and code[4:] != "00"):
        return None
    has_city = city not in _PLACEHOLDER_CITIES
    if has_city:
        names.append(city)
    if county is not None and county != names[-1]:  # 441900 东莞市 is its own county row
        names.append(county)
    return tuple(names), has_city


def region_name(code: str, *, short: bool = False) -> str:
    """The name of a region code: ``region_name("330106")`` is 浙江省杭州市西湖区, and with
    ``short=True`` 杭州市西湖区 (the province is left out where a city names the place; a
    municipality keeps it: 北京市朝阳区). A code the table does not have is returned as it
    is, so a page never hides what was recorded."""
    found = _names(code or "")
    if found is None:
        return code or ""
    names, has_city = found
    return "".join(names[1:] if short and has_city else names)


def is_known(code: str) -> bool:
    """True for a province, city or county code in the table."""
    return _names(code or "") is not None


def clean_county_code(raw: str) -> str:
    """A county-level code that is in the table (441900 东莞市 included, which has no
    counties): the check the registration and venue forms make. Raises ValidationError."""
    code = idnumbers.normalise(raw)
    if code in _table()["counties"]:
        return code
    idnumbers.clean_region_code(code)  # the format and level messages
    raise ValidationError(
        _("行政区划代码 %(code)s 不在国家行政区划代码表中，请核对后重新填写。"),
        code="region_unknown",
        params={"code": code},
    )


def table_json() -> bytes:
    """The vendored table as served to the region picker (static/js/region-picker.js): the
    same file the names and checks above read, so there is one table for the whole project."""
    return _TABLE.read_bytes()


def picker_attrs(**attrs) -> dict:
    """Widget attributes of a six-digit region-code field that the picker turns into
    province → city → district selects; without JavaScript the code is typed."""
    from django.urls import reverse_lazy

    return {
        "inputmode": "numeric",
        "data-region-picker": reverse_lazy("healthcode:regions"),
        **attrs,
    }
