"""Reads for family bindings (代办)."""

import uuid

from django.db.models import QuerySet

from healthcode.models import Resident
from proxy_scan.models import FamilyBinding


def family_members_of(*, holder: Resident) -> QuerySet[FamilyBinding]:
    """The holder's active bindings, oldest first, with each member's code loaded."""
    return FamilyBinding.objects.select_related("member", "member__health_code").filter(
        holder=holder, unbound_at=None
    )


def family_holders_of(*, member: Resident) -> QuerySet[FamilyBinding]:
    """Everyone who holds or held this member's code, newest first: the member's own view of
    who can show their code (the rows of unbindings stay)."""
    return (
        FamilyBinding.objects.select_related("holder", "unbound_by")
        .filter(member=member)
        .order_by("-bound_at", "-id")
    )


def family_binding_for(*, holder: Resident, binding_id) -> FamilyBinding | None:
    """The holder's active binding with this public id, with the member's code and the
    holder's account loaded (a viewing is recorded by it); None for a malformed id, another
    holder's binding or an ended one."""
    try:
        public_id = uuid.UUID(str(binding_id))
    except ValueError:
        return None
    return (
        FamilyBinding.objects.select_related("member__health_code", "holder__user")
        .filter(holder=holder, public_id=public_id, unbound_at=None)
        .first()
    )
