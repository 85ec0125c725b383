"""Input fields shared by the check-in API and its throttles."""

from rest_framework import serializers

# The largest id a bigint column holds: a larger number is a field error, not an overflow (500).
MAX_ID = 2**63 - 1


class VenueIdField(serializers.IntegerField):
    """A venue's id as the API takes it (an integer, "12", or "12.0" as DRF allows)."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)
