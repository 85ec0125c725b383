"""Masking of a person's identity. The one place it happens; every screen, export and API
response that shows a person to anyone but that person goes through these.

- name: 张*三; two characters 张*; one character *; a name with a middle dot keeps the first
  character of its first part and the dots: 买*·****.
- ID number: first 4 + last 4 (1101**********002X); shorter numbers keep 2 + 2 (never more
  than half of the number).
- phone: 138****1234.
"""

MASK = "*"


def mask_name(name: str) -> str:
    name = name or ""
    if "·" in name:
        return name[0] + "".join(ch if ch == "·" else MASK for ch in name[1:])
    if len(name) <= 1:
        return MASK * len(name)
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def _keep_ends(value: str, keep: int) -> str:
    return value[:keep] + MASK * (len(value) - 2 * keep) + value[-keep:]


def mask_id_number(number: str) -> str:
    number = number or ""
    if len(number) >= 16:
        return _keep_ends(number, 4)
    if len(number) >= 8:
        return _keep_ends(number, 2)
    return MASK * len(number)


def mask_phone(phone: str) -> str:
    phone = phone or ""
    if len(phone) == 11:
        return phone[:3] + MASK * 4 + phone[-4:]
    if len(phone) >= 8:
        return _keep_ends(phone, 2)
    return MASK * len(phone)
