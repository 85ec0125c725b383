"""The status engine: a resident's facts and a time in, a status out.

Pure: no ORM, no clock, no settings. Everything that decides a colour or a test window is
here, in one table of rules (``RULES``) with a version (``RULES_VERSION``) that every stored
status records. Red beats yellow beats green; every reason that applies is kept, each with the
fact that raised it and since when, so a resident can be told why.

Sources: colours from the Shandong notice (seed 004); the 14-day itinerary counting only stays
of 4 hours or more from Beijing (seed 003); test windows as effective-dated policies, counted
from sampling or from the result, from Hangzhou (seed 000).
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

RULES_VERSION = "2026.11.1"

GREEN, YELLOW, RED = "green", "yellow", "red"
_RANK = {GREEN: 0, YELLOW: 1, RED: 2}

DAY = dt.timedelta(days=1)
ITINERARY_MIN_STAY = dt.timedelta(hours=4)
ITINERARY_LOOKBACK = 14 * DAY


@dataclass(frozen=True)
class Rule:
    code: str
    colour: str
    text: str
    # How long a fact of this kind lasts when its source gives no end (None: until lifted).
    default_duration: dt.timedelta | None = None


# The rules, as data. Flag kinds are the codes of the flag rules; results and the itinerary
# have rules of their own. Changing a row means changing RULES_VERSION.
RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("positive_result", RED, "核酸阳性", 14 * DAY),
        Rule("confirmed", RED, "确诊病例"),
        Rule("suspected", RED, "疑似病例"),
        Rule("asymptomatic_isolation", RED, "集中隔离医学观察的无症状感染者"),
        Rule("close_contact", RED, "隔离医学观察的密切接触者"),
        Rule("from_high_risk_area", RED, "来自疫情防控重点地区或高风险地区"),
        Rule("other_high", RED, "其他需纳入高风险管理的人员"),
        Rule("fever_clinic", YELLOW, "14天内有发热门诊就诊记录", 14 * DAY),
        Rule("symptoms", YELLOW, "有发热、干咳、气促等呼吸道症状", 14 * DAY),
        Rule("database_abnormal", YELLOW, "全省疫情数据库14天内异常", 14 * DAY),
        Rule("discharged_observation", YELLOW, "治愈出院居家观察未满14天", 14 * DAY),
        Rule("asymptomatic_released", YELLOW, "解除隔离未满14天的无症状感染者", 14 * DAY),
        Rule("overseas_quarantine", YELLOW, "境外来返人员隔离期未满", 14 * DAY),
        Rule("from_medium_risk_area", YELLOW, "来自疫情中风险地区", 14 * DAY),
        Rule("other_medium", YELLOW, "其他需纳入中风险管理的人员", 14 * DAY),
        Rule("no_abnormality", GREEN, "未见异常"),
    )
}
FLAG_KINDS = [
    code for code, rule in RULES.items() if code not in {"positive_result", "no_abnormality"}
]
AREA_LEVEL_RULES = {"high": "from_high_risk_area", "medium": "from_medium_risk_area"}


# --- Facts ---------------------------------------------------------------------------------
class Result(StrEnum):
    PENDING = "pending"
    NEGATIVE = "negative"
    POSITIVE = "positive"
    INVALID = "invalid"


@dataclass(frozen=True)
class Sample:
    ref: str
    sampled_at: dt.datetime
    reported_at: dt.datetime | None
    result: str


@dataclass(frozen=True)
class Flag:
    ref: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None


@dataclass(frozen=True)
class Policy:
    """Test-validity policy for the resident's population group from ``effective_from``."""

    ref: str
    window_hours: int
    counts_from: str  # "sampling" or "result"
    pending_counts: bool
    effective_from: dt.datetime


@dataclass(frozen=True)
class Stay:
    ref: str
    region_code: str
    arrived_at: dt.datetime
    left_at: dt.datetime | None


@dataclass(frozen=True)
class Area:
    ref: str
    region_code: str
    level: str  # "high" or "medium"
    starts_at: dt.datetime
    ends_at: dt.datetime | None


@dataclass(frozen=True)
class Facts:
    samples: tuple[Sample, ...] = ()
    flags: tuple[Flag, ...] = ()
    policies: tuple[Policy, ...] = ()  # those of the resident's group
    stays: tuple[Stay, ...] = ()
    areas: tuple[Area, ...] = ()  # those that may cover a stay


# --- Status --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    code: str
    colour: str
    text: str
    fact: str  # which fact raised it, e.g. "sample:12", "flag:7", "stay:3/area:2"
    since: dt.datetime | None
    until: dt.datetime | None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "text": self.text,
            "colour": self.colour,
            "fact": self.fact,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


class TestState(StrEnum):
    __test__ = False  # not a pytest class
    NONE = "none"  # 暂无核酸检测记录
    NEGATIVE = "negative"  # a negative inside the window
    PENDING = "pending"  # 核酸结果待出 (counts or not, see valid_now)
    EXPIRED = "expired"  # 核酸已超 N 小时
    POSITIVE = "positive"
    INVALID = "invalid"  # the latest sample must be taken again


@dataclass(frozen=True)
class TestStatus:
    __test__ = False  # not a pytest class
    state: str
    last_sampled_at: dt.datetime | None = None
    last_result: str | None = None
    basis_sampled_at: dt.datetime | None = None  # the sample the window counts from
    window_hours: int | None = None
    counts_from: str | None = None
    valid_until: dt.datetime | None = None
    valid_now: bool = False
    policy: str | None = None

    def as_dict(self) -> dict:
        def iso(value):
            return value.isoformat() if value else None

        return {
            "state": self.state,
            "last_sampled_at": iso(self.last_sampled_at),
            "last_result": self.last_result,
            "basis_sampled_at": iso(self.basis_sampled_at),
            "window_hours": self.window_hours,
            "counts_from": self.counts_from,
            "valid_until": iso(self.valid_until),
            "valid_now": self.valid_now,
            "policy": self.policy,
        }


@dataclass(frozen=True)
class Status:
    colour: str
    reasons: tuple[Reason, ...]
    test: TestStatus
    review_at: dt.datetime | None  # next instant the answer changes by time alone
    rules_version: str = RULES_VERSION


# --- Evaluation ----------------------------------------------------------------------------
def evaluate(facts: Facts, now: dt.datetime) -> Status:
    """The status at ``now``: colour, every reason that applies, test status, next review."""
    changes: list[dt.datetime] = []  # instants after now when something may change
    reasons = [
        *_result_reasons(facts.samples, now, changes),
        *_flag_reasons(facts.flags, now, changes),
        *_itinerary_reasons(facts.stays, facts.areas, now, changes),
    ]
    test = _test_status(facts.samples, facts.policies, now, changes)
    if reasons:
        reasons.sort(key=lambda r: (-_RANK[r.colour], r.since or now, r.code, r.fact))
        colour = reasons[0].colour
    else:
        green = RULES["no_abnormality"]
        reasons = [Reason(green.code, GREEN, green.text, "", None, None)]
        colour = GREEN
    future = [t for t in changes if t > now]
    return Status(colour, tuple(reasons), test, min(future) if future else None)


def _active(starts: dt.datetime, ends: dt.datetime | None, now, changes) -> bool:
    changes.append(starts)
    if ends is not None:
        changes.append(ends)
    return starts <= now and (ends is None or now < ends)


def _result_reasons(samples, now, changes):
    rule = RULES["positive_result"]
    for sample in samples:
        if sample.result != Result.POSITIVE or sample.reported_at is None:
            continue
        until = sample.reported_at + rule.default_duration
        if _active(sample.reported_at, until, now, changes):
            yield Reason(rule.code, rule.colour, rule.text, sample.ref, sample.reported_at, until)


def _flag_reasons(flags, now, changes):
    for flag in flags:
        rule = RULES.get(flag.kind)
        if rule is None or rule.colour == GREEN:
            continue
        if _active(flag.starts_at, flag.ends_at, now, changes):
            yield Reason(rule.code, rule.colour, rule.text, flag.ref, flag.starts_at, flag.ends_at)


def area_prefix(area_code: str) -> str:
    """The prefix of the region codes an area covers: a province (xx0000) or city (xxxx00)
    code covers every code under it."""
    prefix = area_code
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def area_covers(area_code: str, region_code: str) -> bool:
    return region_code.startswith(area_prefix(area_code))


def _itinerary_reasons(stays, areas, now, changes):
    """Being 4 h or more in a region while it was a risk area raises that area's flag: from
    the moment the 4 h were reached, until 14 days after the exposure ended — leaving, or the
    area being lifted, whichever came first (open while both go on)."""
    for stay in stays:
        for area in areas:
            if not area_covers(area.region_code, stay.region_code):
                continue
            start = max(stay.arrived_at, area.starts_at)
            ends = [t for t in (stay.left_at, area.ends_at) if t is not None]
            end = min(ends) if ends else None
            if end is not None and end - start < ITINERARY_MIN_STAY:
                continue  # not 4 h there while it was at risk (or no overlap at all)
            rule = RULES[AREA_LEVEL_RULES[area.level]]
            since = start + ITINERARY_MIN_STAY
            until = end + ITINERARY_LOOKBACK if end is not None else None
            if _active(since, until, now, changes):
                fact = f"{stay.ref}/{area.ref}"
                yield Reason(rule.code, rule.colour, rule.text, fact, since, until)


def policy_at(policies, now) -> Policy | None:
    current = [p for p in policies if p.effective_from <= now]
    return max(current, key=lambda p: p.effective_from) if current else None


def _test_status(samples, policies, now, changes) -> TestStatus:
    changes.extend(p.effective_from for p in policies)
    changes.extend(s.sampled_at for s in samples)
    changes.extend(s.reported_at for s in samples if s.reported_at is not None)
    policy = policy_at(policies, now)
    known = sorted((s for s in samples if s.sampled_at <= now), key=lambda s: s.sampled_at)
    if not known:
        return TestStatus(
            TestState.NONE,
            window_hours=policy.window_hours if policy else None,
            counts_from=policy.counts_from if policy else None,
            policy=policy.ref if policy else None,
        )
    latest = known[-1]
    base = {
        "last_sampled_at": latest.sampled_at,
        "last_result": latest.result,
        "window_hours": policy.window_hours if policy else None,
        "counts_from": policy.counts_from if policy else None,
        "policy": policy.ref if policy else None,
    }
    if any(True for _ in _result_reasons(known, now, [])):
        return TestStatus(TestState.POSITIVE, **base)
    basis, basis_time = _window_basis(known, policy, now)
    base["basis_sampled_at"] = basis.sampled_at if basis else None
    if policy is None:
        # No policy for this group: report the latest result without a window.
        state = {
            Result.NEGATIVE: TestState.NEGATIVE,
            Result.PENDING: TestState.PENDING,
        }.get(latest.result, TestState.INVALID)
        return TestStatus(state, **base)
    valid_until = basis_time + dt.timedelta(hours=policy.window_hours) if basis else None
    if valid_until is not None:
        changes.append(valid_until)
    if valid_until is not None and now < valid_until:
        state = TestState.NEGATIVE if basis.result == Result.NEGATIVE else TestState.PENDING
        return TestStatus(state, valid_until=valid_until, valid_now=True, **base)
    if latest.result == Result.PENDING:
        state = TestState.PENDING
    elif latest.result == Result.INVALID:
        state = TestState.INVALID
    else:
        state = TestState.EXPIRED
    return TestStatus(state, valid_until=valid_until, valid_now=False, **base)


def _window_basis(known, policy, now) -> tuple[Sample | None, dt.datetime | None]:
    """The sample the window counts from, and the instant it counts from."""
    best: tuple[Sample | None, dt.datetime | None] = (None, None)
    for sample in known:
        if sample.result == Result.NEGATIVE and sample.reported_at and sample.reported_at <= now:
            by_result = policy is not None and policy.counts_from == "result"
            at = sample.reported_at if by_result else sample.sampled_at
        elif sample.result == Result.PENDING and (
            policy is None or (policy.pending_counts and policy.counts_from == "sampling")
        ):
            at = sample.sampled_at
        else:
            continue
        if best[1] is None or at >= best[1]:
            best = (sample, at)
    return best


# --- At the door ---------------------------------------------------------------------------
# A venue that requires vaccination lets in a person with at least this many doses on record:
# one, any product. Doses are counted by dose number (a booster is dose 3), so "at least one"
# means "has started vaccination"; a full course would be a higher number here.
VACCINATION_MIN_DOSES = 1


@dataclass(frozen=True)
class Decision:
    passed: bool
    code: str
    text: str


def entry_decision(
    *,
    colour: str,
    test: dict,
    required_hours: int | None,
    test_required: bool,
    now: dt.datetime,
    fever: bool = False,
    vaccination_required: bool = False,
    doses: int = 0,
    min_doses: int = VACCINATION_MIN_DOSES,
) -> Decision:
    """Whether a person may enter a venue (seeds 001, 002, 004): red or yellow stop; a test
    outside the venue's window stops (核酸超时); green with a test in time passes, and
    nothing else is asked of a green holder.

    ``test`` is the stored test status (``TestStatus.as_dict``) of a status current at
    ``now``; ``required_hours`` is the venue's own window (24/48/72 h), None to follow the
    person's policy; ``test_required`` False for venues that check no test; ``fever``:
    37.3 ℃ or more at the door (seed 004), which stops anyone; ``vaccination_required``:
    the venue's own setting, when on a person with fewer than ``min_doses`` doses on record
    (``doses``) is stopped — asked last, so a red code or an overdue test is the reason
    given when there is one.
    """
    if colour == RED:
        return Decision(False, "red", "红码，禁止通行")
    if colour == YELLOW:
        return Decision(False, "yellow", "黄码，禁止通行")
    if fever:
        return Decision(False, "fever", "体温异常（≥37.3℃），禁止通行")
    if test_required:
        if required_hours is not None:
            # A venue's own window counts from sampling (seed 002: "a valid sample or result
            # in time"), whatever the person's policy counts from.
            basis = test.get("basis_sampled_at")
            in_time = basis is not None and now < dt.datetime.fromisoformat(basis) + dt.timedelta(
                hours=required_hours
            )
            hours = required_hours
        else:
            hours = test.get("window_hours")
            in_time = hours is None or bool(test.get("valid_now"))
        if not in_time:
            if test.get("state", "none") == "none":
                return Decision(False, "no_test", "暂无核酸检测记录，禁止通行")
            return Decision(False, "test_overdue", f"核酸超时（要求 {hours} 小时内），禁止通行")
    if vaccination_required and doses < min_doses:
        if doses == 0:
            text = "本场所要求接种新冠疫苗，未查到接种记录，禁止通行"
        else:
            text = f"本场所要求接种新冠疫苗至少 {min_doses} 剂，已接种 {doses} 剂，禁止通行"
        return Decision(False, "not_vaccinated", text)
    return Decision(True, "pass", "绿码，可以通行")


def worse(a: str, b: str) -> bool:
    """True if colour ``a`` is worse (redder) than ``b``."""
    return _RANK[a] > _RANK[b]
