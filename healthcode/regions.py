"""Which regions a list of administrative-division codes (GB/T 2260) covers, for the roles
that look after regions (grid workers, health officers): a county code covers itself, a city
(xxxx00) or province (xx0000) code every code under it. One rule, used by all of them."""

import operator
from functools import reduce

from django.db.models import Q

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
