"""Codes a signed-in resident may show besides their own, for the code page's switcher.

healthcode does not know who those are (family members bound under 代办 are proxy_scan's):
an app registers a provider at start-up (``proxy_scan.apps``), so imports keep going one way
(tests/test_layering.py). A provider offers ``choices(holder)``, the codes to switch to, and
``open(holder, key, record)``, one of them by its ``?member=`` key or None (404); ``record``
is true when a page shows it (a lookup of that person), false for the QR image it reloads.
"""

from dataclasses import dataclass
from typing import Protocol

from healthcode.models import Resident


@dataclass(frozen=True)
class ShownCode:
    key: str  # the ?member= value
    label: str  # what the switcher says, e.g. 父母 王*奶
    resident: Resident  # with health_code loaded
    api_url: str  # where the page fetches its fresh status and token


class Provider(Protocol):
    manage_url: str
    manage_label: str

    def choices(self, holder: Resident) -> list[ShownCode]: ...

    def open(self, holder: Resident, key: str, *, record: bool) -> ShownCode | None: ...


_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def providers() -> list[Provider]:
    return list(_providers)


def choices(holder: Resident) -> list[ShownCode]:
    return [shown for provider in _providers for shown in provider.choices(holder)]


def open_code(holder: Resident, key: str, *, record: bool) -> ShownCode | None:
    for provider in _providers:
        shown = provider.open(holder, key, record=record)
        if shown is not None:
            return shown
    return None
