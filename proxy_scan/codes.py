"""Bound family members' codes on the holder's code page (``healthcode.shown_codes``).

The ``?member=`` key is the binding's public id: it means something only to its holder, and
ends with the binding (an unbound holder's old link is a 404)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from healthcode.models import Resident
from healthcode.shown_codes import ShownCode
from proxy_scan import services
from proxy_scan.models import FamilyBinding
from proxy_scan.selectors import family_binding_for, family_members_of


def shown(binding: FamilyBinding) -> ShownCode:
    return ShownCode(
        key=str(binding.public_id),
        label=f"{binding.get_relationship_display()} {binding.member.masked_name}",
        resident=binding.member,
        api_url=reverse("api-me-family-code", args=[binding.public_id]),
    )


class FamilyCodes:
    manage_label = _("家庭成员代办：绑定或解绑")

    @property
    def manage_url(self) -> str:
        return reverse("proxy_scan:family")

    def choices(self, holder: Resident) -> list[ShownCode]:
        return [shown(binding) for binding in family_members_of(holder=holder)]

    def open(self, holder: Resident, key: str, *, record: bool) -> ShownCode | None:
        binding = family_binding_for(holder=holder, binding_id=key)
        if binding is None:
            return None
        if record:
            services.family_code_viewed(binding=binding)
        return shown(binding)


family_codes = FamilyCodes()
