"""Reads for 帮扫 and 老幼助查."""

from healthcode.models import User
from proxy_scan.models import ElderLookupResult


def elder_lookup_result_for(*, key: str, viewer: User) -> ElderLookupResult | None:
    """The 老幼助查 result at this address if ``viewer`` made it, with the person's code
    loaded (one query); None for an unknown address and for another user's, alike."""
    return (
        ElderLookupResult.objects.select_related("resident__health_code")
        .filter(key=key, viewer=viewer)
        .first()
    )
