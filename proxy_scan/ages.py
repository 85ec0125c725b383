"""Who 老幼助查 (elder and child lookup) may be used for: a pure rule, no ORM.

Seed 001: only for people aged 60 or older, or 16 or younger (以上/以下 include the number),
counted in completed years from the birth date in the ID number to today's date in
Asia/Shanghai. ``ResidentIdInfo.age_on`` does the counting: someone born on 29 February is a
year older on 1 March in a year without one.
"""

import datetime as dt

from healthcode.idnumbers import ResidentIdInfo

ELDER_FROM_AGE = 60  # 60 岁以上（含 60 岁）
CHILD_UP_TO_AGE = 16  # 16 岁以下（含 16 岁）


def elder_lookup_age_allowed(info: ResidentIdInfo, *, today: dt.date) -> bool:
    """Whether the holder of this ID is 60 or older, or 16 or younger, on ``today``."""
    age = info.age_on(today)
    return age >= ELDER_FROM_AGE or age <= CHILD_UP_TO_AGE
