"""Reads for vaccination: a person's doses as one line (四码一屏), for every screen that shows
a person's status and for the door's decision."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, DateField, IntegerField, Max
from django.utils.translation import gettext as _

from healthcode.models import Resident
from vaccination.models import Dose


@dataclass(frozen=True)
class Vaccination:
    """How many doses a person has had (distinct dose numbers: the same dose sent by two
    systems counts once) and the date of the latest."""

    doses: int = 0
    last_date: dt.date | None = None

    @property
    def text(self) -> str:
        if not self.doses:
            return _("未接种")
        return _("已接种 %(n)s 剂（末次 %(date)s）") % {
            "n": self.doses,
            "date": self.last_date.isoformat() if self.last_date else "",
        }

    def stored(self) -> dict:
        """As kept on a check-in (what the door saw): the facts, not the text."""
        return {
            "doses": self.doses,
            "last_date": self.last_date.isoformat() if self.last_date else None,
        }

    def as_dict(self) -> dict:
        return {**self.stored(), "text": self.text}

    @classmethod
    def from_stored(cls, data: dict | None) -> "Vaccination | None":
        """From ``stored()``; None for a check-in recorded without it (an unregistered person
        checked in by hand, or one recorded before vaccination was shown)."""
        if not data:
            return None
        last = data.get("last_date")
        return cls(int(data.get("doses") or 0), dt.date.fromisoformat(last) if last else None)


def vaccination_of(*, resident: Resident) -> Vaccination:
    """The person's doses, in one query on the dose table's identity index. Like results,
    a dose counts only where its name agrees with the registered one."""
    found = Dose.objects.filter(
        id_number=resident.id_number, id_type=resident.id_type, name=resident.name
    ).aggregate(doses=Count("dose_number", distinct=True), last_date=Max("vaccinated_on"))
    return Vaccination(found["doses"] or 0, found["last_date"])


# The types of the two columns ``vaccination_columns_sql`` adds (healthcode.rawrows.Rows).
VACCINATION_FIELDS = (IntegerField(), DateField())


def vaccination_columns_sql(*, resident: Resident) -> tuple[str, list]:
    """``vaccination_of`` as two columns another statement can carry, so the door reads the
    doses in the same round trip as the person's code: two scalar subqueries on the dose
    table's identity index — the number of doses (0 without any) and the latest date. Its
    SQL and parameters; ``VACCINATION_FIELDS`` are their types."""
    table = Dose._meta.db_table
    where = f'FROM "{table}" d WHERE d.id_number = %s AND d.id_type = %s AND d.name = %s'
    identity = [resident.id_number, resident.id_type, resident.name]
    sql = f"(SELECT COUNT(DISTINCT d.dose_number) {where}), (SELECT MAX(d.vaccinated_on) {where})"
    return sql, identity + identity


def vaccination_line(*, resident: Resident) -> str:
    """已接种 3 剂（末次 2022-01-10） or 未接种."""
    return vaccination_of(resident=resident).text
