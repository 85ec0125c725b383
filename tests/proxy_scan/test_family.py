"""Family members (代办): binding, the 10-member limit, unbinding, members without a log-in."""

import ast
import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from healthcode.errors import DomainError
from healthcode.models import HealthCode, Resident, User
from proxy_scan import services
from proxy_scan.models import FamilyBinding
from proxy_scan.selectors import family_holders_of, family_members_of
from tests.factories import lookups, make_resident, post_result, registration_data, resident_id

pytestmark = pytest.mark.django_db

ELDER_ID = resident_id(region="330106", birth="19500101", seq=17)
CHILD_ID = resident_id(region="330106", birth="20160601", seq=28)


def bind(holder, *, name="王奶奶", id_number=ELDER_ID, relationship="grandparent", **extra):
    return services.family_member_bind(
        holder=holder,
        name=name,
        id_type=extra.pop("id_type", "resident_id"),
        id_number=id_number,
        relationship=relationship,
        **extra,
    )


def counts() -> tuple[int, int, int, int]:
    return (
        Resident.objects.count(),
        HealthCode.objects.count(),
        FamilyBinding.objects.count(),
        User.objects.count(),
    )


def test_an_unknown_member_becomes_a_resident_without_log_in_with_a_green_code(resident):
    binding = bind(resident, name=" 王 奶奶", id_number=ELDER_ID.lower().replace("x", "x"))
    member = binding.member
    assert member.user is None and not member.has_login
    assert (member.name, member.id_number) == ("王 奶奶", ELDER_ID)
    assert (member.region_code, member.address) == (resident.region_code, resident.address)
    assert member.health_code.colour == "green"
    assert member.health_code.changes.get().cause == "registration"
    assert list(family_members_of(holder=resident)) == [binding]


def test_a_registered_member_is_linked_not_copied(resident):
    other = make_resident(name="李四")
    before = counts()
    binding = bind(resident, name="李四", id_number=other.id_number, relationship="spouse")
    assert binding.member == other
    assert counts() == (before[0], before[1], before[2] + 1, before[3])


def test_a_name_that_does_not_match_says_only_mismatch_and_writes_nothing(resident):
    other = make_resident(name="李四")
    before = counts()
    with pytest.raises(DomainError) as exc:
        bind(resident, name="李五", id_number=other.id_number)
    assert exc.value.message == "信息不符，请核对姓名和证件号码。"
    assert exc.value.field is None  # not which part is wrong
    assert counts() == before


def test_bad_identity_is_a_field_error_and_writes_nothing(resident):
    before = counts()
    with pytest.raises(DomainError) as exc:
        bind(resident, id_number=ELDER_ID[:-1] + ("0" if ELDER_ID[-1] != "0" else "1"))
    assert exc.value.field == "id_number" and "校验位" in exc.value.message
    with pytest.raises(DomainError) as exc:
        bind(resident, relationship="neighbour")
    assert exc.value.field == "relationship"
    with pytest.raises(DomainError) as exc:
        bind(resident, name="<b>")
    assert exc.value.field == "name"
    assert counts() == before


def test_oneself_and_a_member_bound_twice_are_refused(resident):
    with pytest.raises(DomainError, match="不能绑定本人"):
        bind(resident, name=resident.name, id_number=resident.id_number)
    bind(resident)
    before = counts()
    with pytest.raises(DomainError, match="已绑定"):
        bind(resident)
    assert counts() == before


def test_the_tenth_member_is_bound_and_the_eleventh_refused_writing_nothing(resident):
    for seq in range(10):
        bind(resident, id_number=resident_id(region="330106", birth="19450101", seq=100 + seq))
    assert family_members_of(holder=resident).count() == 10
    before = counts()
    with pytest.raises(DomainError) as exc:
        bind(resident, id_number=resident_id(region="330106", birth="19450101", seq=200))
    assert exc.value.status == 409 and "最多可绑定 10 位" in exc.value.message
    assert counts() == before
    # An unbound member frees a place.
    services.family_member_unbind(
        holder=resident, binding_id=family_members_of(holder=resident).first().public_id
    )
    bind(resident, id_number=resident_id(region="330106", birth="19450101", seq=200))


def test_both_parents_bind_one_child_who_stays_one_resident(resident):
    other_parent = make_resident(name="王芳")
    first = bind(resident, name="王小明", id_number=CHILD_ID, relationship="child")
    second = bind(other_parent, name="王小明", id_number=CHILD_ID, relationship="child")
    assert first.member == second.member
    assert Resident.objects.filter(id_number=CHILD_ID).count() == 1
    holders = {b.holder for b in family_holders_of(member=first.member)}
    assert holders == {resident, other_parent}


def test_unbinding_keeps_the_row_with_when_and_by_whom(resident):
    binding = bind(resident)
    ended = services.family_member_unbind(holder=resident, binding_id=binding.public_id)
    assert ended.pk == binding.pk and ended.unbound_at is not None
    assert ended.unbound_by == resident.user
    assert list(family_members_of(holder=resident)) == []
    assert list(family_holders_of(member=binding.member)) == [ended]  # history stays
    with pytest.raises(DomainError) as exc:  # twice: not found, nothing written
        services.family_member_unbind(holder=resident, binding_id=binding.public_id)
    assert exc.value.status == 404
    rebound = bind(resident)  # bind again: a new row, the old one kept
    assert rebound.pk != binding.pk and FamilyBinding.objects.count() == 2


def test_another_holder_cannot_unbind_my_member(resident):
    binding = bind(resident)
    stranger = make_resident(name="赵六")
    for wrong in (binding.public_id, "not-a-uuid", None):
        with pytest.raises(DomainError) as exc:
            services.family_member_unbind(holder=stranger, binding_id=wrong)
        assert exc.value.status == 404
    binding.refresh_from_db()
    assert binding.unbound_at is None


def test_a_member_without_log_in_turns_red_on_a_positive_result(resident):
    member = bind(resident).member
    sampled = timezone.now() - dt.timedelta(hours=3)
    post_result(
        id_number=ELDER_ID,
        name="王奶奶",
        sampled=sampled,
        reported=sampled + dt.timedelta(hours=2),
        result="positive",
    )
    code = HealthCode.objects.get(resident=member)
    assert code.colour == "red" and code.test["state"] == "positive"


def test_a_result_that_arrived_before_binding_applies_at_once(resident):
    sampled = timezone.now() - dt.timedelta(hours=3)
    post_result(
        id_number=CHILD_ID,
        name="王小明",
        sampled=sampled,
        reported=sampled + dt.timedelta(hours=1),
        result="positive",
    )
    member = bind(resident, name="王小明", id_number=CHILD_ID, relationship="child").member
    assert member.health_code.colour == "red"


def test_a_bound_member_who_registers_later_takes_over_their_record(resident, client):
    member = bind(resident).member
    data = registration_data(name="王奶奶", id_number=ELDER_ID)
    response = client.post("/register/", data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.user.phone == data["phone"]
    assert Resident.objects.filter(id_number=ELDER_ID).count() == 1
    assert family_members_of(holder=resident).get().member == member  # still bound
    # A different name on that number is the usual "already registered" answer.
    other = registration_data(name="王爷爷", id_number=CHILD_ID)
    bind(resident, name="王小明", id_number=CHILD_ID, relationship="child")
    response = Client().post("/register/", other)  # signed out
    assert "该证件号码已注册" in response.content.decode()
    assert Resident.objects.get(id_number=CHILD_ID).user is None


def test_every_resident_without_log_in_has_a_holder(resident):
    """The rule a check constraint cannot express (it would need the bindings table)."""
    bind(resident)
    bind(resident, name="王小明", id_number=CHILD_ID, relationship="child")
    services.family_member_unbind(
        holder=resident, binding_id=family_members_of(holder=resident).first().public_id
    )
    orphans = Resident.objects.filter(user=None, held_by_bindings=None)
    assert Resident.objects.filter(user=None).count() == 2 and not orphans.exists()


def test_only_the_binding_service_creates_residents_without_log_in():
    """resident_create_without_login is safe only inside family_member_bind's transaction."""
    root = Path(__file__).resolve().parents[2]
    callers = set()
    for path in root.rglob("*.py"):
        # mutants/: make mutants' copy of the project (git-ignored), mutated on purpose.
        if {".venv", "tests", "mutants"} & set(path.relative_to(root).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "resident_create_without_login":
                callers.add(str(path.relative_to(root)))
    assert callers == {"proxy_scan/services.py"}


def test_one_active_binding_per_holder_and_member_in_the_database(resident):
    binding = bind(resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyBinding.objects.create(holder=resident, member=binding.member, relationship="other")
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyBinding.objects.create(holder=resident, member=resident, relationship="other")


def test_viewing_a_members_code_is_recorded_once_per_token_lifetime(resident, settings):
    binding = bind(resident)
    now = timezone.now()
    assert services.family_code_viewed(binding=binding, now=now) is not None
    assert services.family_code_viewed(binding=binding, now=now) is None
    later = now + dt.timedelta(seconds=settings.HEALTHCODE_TOKEN_TTL_SECONDS + 1)
    seen = lookups(subject=binding.member, action="family")
    assert seen.get().actor == resident.user
    with time_machine.travel(later, tick=False):
        assert services.family_code_viewed(binding=binding, now=later) is not None
    assert seen.count() == 2


def test_seed_demo_binds_an_elder_and_a_child_to_the_demo_holder_and_prints_them():
    from io import StringIO

    from django.core.management import call_command

    from healthcode.management.commands.seed_demo import FAMILY_HOLDER_PHONE

    for _ in range(2):  # idempotent
        out = StringIO()
        call_command("seed_demo", stdout=out)
    holder = Resident.objects.get(user__phone=FAMILY_HOLDER_PHONE)
    members = [b.member for b in family_members_of(holder=holder)]
    births = sorted(m.id_number[6:10] for m in members)
    assert births == ["1950", "2016"] and all(m.user is None for m in members)
    assert all(m.health_code.colour == "green" for m in members)
    printed = out.getvalue()
    assert FAMILY_HOLDER_PHONE in printed
    assert all(m.name in printed and m.id_number in printed for m in members)
