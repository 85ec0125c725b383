"""The engine's rules at their exact edges. Times are explicit: the engine has no clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcode import engine
from healthcode.engine import Area, Facts, Flag, Policy, Sample, Stay

SH = ZoneInfo("Asia/Shanghai")
S = dt.timedelta(seconds=1)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


# Hangzhou: 48 h until 2022-05-27 00:00, 72 h from then on, counted from sampling.
HANGZHOU = (
    Policy("policy:48", 48, "sampling", True, at(2020, 1, 1)),
    Policy("policy:72", 72, "sampling", True, at(2022, 5, 27)),
)


def negative(sampled, reported=None, ref="sample:1"):
    return Sample(ref, sampled, reported or sampled + 6 * H, "negative")


def test_no_facts_is_green_with_no_test_record():
    status = engine.evaluate(Facts(), at(2026, 1, 1))
    assert status.colour == "green"
    assert [(r.code, r.text) for r in status.reasons] == [("no_abnormality", "未见异常")]
    assert status.test.state == "none"
    assert status.review_at is None
    assert status.rules_version == engine.RULES_VERSION


def test_the_2022_05_27_switch_from_48_to_72_hours():
    facts = Facts(samples=(negative(at(2022, 5, 25, 10)),), policies=HANGZHOU)
    before = engine.evaluate(facts, at(2022, 5, 26, 23, 59, 59))
    assert before.test.window_hours == 48
    assert before.test.valid_until == at(2022, 5, 27, 10)
    assert before.review_at == at(2022, 5, 27)  # the policy takes effect first
    switched = engine.evaluate(facts, at(2022, 5, 27))
    assert switched.test.window_hours == 72
    assert switched.test.valid_until == at(2022, 5, 28, 10)
    # The example: outside 48 h at 11:00 on the 27th, but inside 72 h from 00:00.
    eleven = engine.evaluate(facts, at(2022, 5, 27, 11))
    assert eleven.test.valid_now and eleven.test.state == "negative"
    only_48 = Facts(samples=facts.samples, policies=HANGZHOU[:1])
    assert not engine.evaluate(only_48, at(2022, 5, 27, 11)).test.valid_now


@pytest.mark.parametrize(("offset", "valid"), [(-S, True), (dt.timedelta(0), False), (S, False)])
def test_window_end_minus_one_second_at_and_plus_one(offset, valid):
    sampled = at(2022, 6, 1, 8, 30)
    facts = Facts(samples=(negative(sampled),), policies=HANGZHOU)
    status = engine.evaluate(facts, sampled + 72 * H + offset)
    assert status.test.valid_now is valid
    assert status.test.state == ("negative" if valid else "expired")
    assert status.colour == "green"  # an overdue test alone does not change the colour


def test_window_counted_from_the_result():
    policy = (Policy("p", 48, "result", False, at(2020, 1, 1)),)
    sample = negative(at(2022, 6, 1, 8), reported=at(2022, 6, 1, 20))
    facts = Facts(samples=(sample,), policies=policy)
    assert engine.evaluate(facts, at(2022, 6, 3, 19, 59, 59)).test.valid_now
    assert not engine.evaluate(facts, at(2022, 6, 3, 20)).test.valid_now


def test_pending_counts_from_sampling_only_when_the_policy_says_so():
    pending = Sample("s", at(2022, 6, 1, 8), None, "pending")
    counts = Facts(samples=(pending,), policies=HANGZHOU)
    status = engine.evaluate(counts, at(2022, 6, 1, 9))
    assert (status.test.state, status.test.valid_now) == ("pending", True)
    strict = (Policy("p", 72, "sampling", False, at(2020, 1, 1)),)
    status = engine.evaluate(Facts(samples=(pending,), policies=strict), at(2022, 6, 1, 9))
    assert (status.test.state, status.test.valid_now) == ("pending", False)


def test_an_older_negative_still_counts_while_the_newest_is_pending():
    strict = (Policy("p", 72, "sampling", False, at(2020, 1, 1)),)
    old = negative(at(2022, 6, 1, 8), ref="s1")
    new = Sample("s2", at(2022, 6, 3, 8), None, "pending")
    status = engine.evaluate(Facts(samples=(old, new), policies=strict), at(2022, 6, 3, 9))
    assert status.test.state == "negative" and status.test.valid_now
    assert status.test.basis_sampled_at == old.sampled_at
    assert status.test.last_result == "pending"


def test_invalid_result_asks_for_a_new_sample():
    bad = Sample("s", at(2022, 6, 1, 8), at(2022, 6, 1, 12), "invalid")
    status = engine.evaluate(Facts(samples=(bad,), policies=HANGZHOU), at(2022, 6, 1, 13))
    assert status.test.state == "invalid" and not status.test.valid_now


def test_a_positive_result_is_red_from_its_report_for_14_days():
    positive = Sample("sample:9", at(2022, 6, 1, 8), at(2022, 6, 1, 20), "positive")
    facts = Facts(samples=(positive,), policies=HANGZHOU)
    assert engine.evaluate(facts, at(2022, 6, 1, 19, 59, 59)).colour == "green"
    status = engine.evaluate(facts, at(2022, 6, 1, 20))
    assert status.colour == "red"
    assert status.reasons[0].text == "核酸阳性"
    assert (status.reasons[0].fact, status.reasons[0].since) == ("sample:9", at(2022, 6, 1, 20))
    assert status.test.state == "positive"
    assert status.review_at == at(2022, 6, 15, 20)
    assert engine.evaluate(facts, at(2022, 6, 15, 20) - S).colour == "red"
    assert engine.evaluate(facts, at(2022, 6, 15, 20)).colour == "green"


def test_a_flag_is_active_until_its_last_second():
    flag = Flag("flag:1", "fever_clinic", at(2022, 6, 1, 10), at(2022, 6, 15, 10))
    facts = Facts(flags=(flag,))
    assert engine.evaluate(facts, at(2022, 6, 1, 10) - S).colour == "green"
    assert engine.evaluate(facts, at(2022, 6, 1, 10) - S).review_at == at(2022, 6, 1, 10)
    start = engine.evaluate(facts, at(2022, 6, 1, 10))
    assert start.colour == "yellow" and start.review_at == at(2022, 6, 15, 10)
    assert engine.evaluate(facts, at(2022, 6, 15, 10) - S).colour == "yellow"
    assert engine.evaluate(facts, at(2022, 6, 15, 10)).colour == "green"


def test_red_beats_yellow_and_all_reasons_are_kept():
    flags = (
        Flag("flag:1", "fever_clinic", at(2022, 6, 1), None),
        Flag("flag:2", "close_contact", at(2022, 6, 2), None),
        Flag("flag:3", "from_medium_risk_area", at(2022, 6, 3), None),
    )
    status = engine.evaluate(Facts(flags=flags), at(2022, 6, 4))
    assert status.colour == "red"
    assert [r.code for r in status.reasons] == [
        "close_contact",
        "fever_clinic",
        "from_medium_risk_area",
    ]
    assert [r.colour for r in status.reasons] == ["red", "yellow", "yellow"]


def test_every_flag_kind_has_a_colour_and_chinese_text():
    for kind in engine.FLAG_KINDS:
        rule = engine.RULES[kind]
        assert rule.colour in ("red", "yellow") and rule.text
        status = engine.evaluate(
            Facts(flags=(Flag("f", kind, at(2022, 1, 1), None),)), at(2022, 1, 2)
        )
        assert status.colour == rule.colour and status.reasons[0].text == rule.text
    # The yellow kinds default to 14 days, the red ones last until lifted.
    assert all(
        engine.RULES[k].default_duration == 14 * D
        for k in engine.FLAG_KINDS
        if engine.RULES[k].colour == "yellow"
    )


HIGH = Area("area:1", "310104", "high", at(2022, 4, 1), at(2022, 6, 1))


@pytest.mark.parametrize(
    ("hours", "counts"), [(4 * H - S, False), (4 * H, True), (4 * H + S, True)]
)
def test_itinerary_counts_only_stays_of_four_hours(hours, counts):
    stay = Stay("stay:1", "310104", at(2022, 5, 1, 8), at(2022, 5, 1, 8) + hours)
    status = engine.evaluate(Facts(stays=(stay,), areas=(HIGH,)), at(2022, 5, 2))
    assert (status.colour == "red") is counts
    if counts:
        assert status.reasons[0].code == "from_high_risk_area"
        assert status.reasons[0].fact == "stay:1/area:1"
        assert status.reasons[0].until == stay.left_at + 14 * D


def test_an_ongoing_stay_counts_from_its_fourth_hour():
    stay = Stay("stay:1", "310104", at(2022, 5, 1, 8), None)
    facts = Facts(stays=(stay,), areas=(HIGH,))
    early = engine.evaluate(facts, at(2022, 5, 1, 12) - S)
    assert early.colour == "green" and early.review_at == at(2022, 5, 1, 12)
    assert engine.evaluate(facts, at(2022, 5, 1, 12)).colour == "red"


def test_itinerary_needs_the_stay_to_overlap_the_risk_period_and_region():
    medium_city = Area("area:2", "310100", "medium", at(2022, 4, 1), None)  # covers 3101xx
    inside = Stay("stay:1", "310104", at(2022, 5, 1, 8), at(2022, 5, 1, 20))
    elsewhere = Stay("stay:2", "320104", at(2022, 5, 1, 8), at(2022, 5, 1, 20))
    before = Stay("stay:3", "310104", at(2022, 3, 1, 8), at(2022, 3, 1, 20))
    now = at(2022, 5, 2)
    assert engine.evaluate(Facts(stays=(inside,), areas=(medium_city,)), now).colour == "yellow"
    assert engine.evaluate(Facts(stays=(elsewhere,), areas=(medium_city,)), now).colour == "green"
    assert engine.evaluate(Facts(stays=(before,), areas=(medium_city,)), at(2022, 3, 2)).colour == (
        "green"
    )


def test_area_codes_cover_their_sub_regions():
    assert engine.area_covers("310000", "310104")
    assert engine.area_covers("310100", "310104")
    assert engine.area_covers("310104", "310104")
    assert not engine.area_covers("310100", "310204")
    assert not engine.area_covers("310104", "310105")


# --- Property: a red or yellow fact never makes the colour greener --------------------------
BASE = at(2022, 5, 1)
offsets = st.integers(min_value=-40 * 24, max_value=40 * 24).map(lambda h: BASE + h * H)
durations = st.one_of(st.none(), st.integers(1, 30 * 24).map(lambda h: h * H))


@st.composite
def flags(draw):
    start = draw(offsets)
    length = draw(durations)
    kind = draw(st.sampled_from(engine.FLAG_KINDS))
    return Flag(
        f"flag:{draw(st.integers(0, 999))}", kind, start, start + length if length else None
    )


@st.composite
def samples(draw):
    sampled = draw(offsets)
    result = draw(st.sampled_from(["pending", "negative", "positive", "invalid"]))
    reported = None if result == "pending" else sampled + draw(st.integers(1, 48)) * H
    return Sample(f"sample:{draw(st.integers(0, 999))}", sampled, reported, result)


@st.composite
def stays(draw):
    arrived = draw(offsets)
    length = draw(durations)
    code = draw(st.sampled_from(["310104", "310105", "320104"]))
    return Stay(
        f"stay:{draw(st.integers(0, 99))}", code, arrived, arrived + length if length else None
    )


@st.composite
def areas(draw):
    start = draw(offsets)
    length = draw(durations)
    return Area(
        f"area:{draw(st.integers(0, 99))}",
        draw(st.sampled_from(["310104", "310100", "310000"])),
        draw(st.sampled_from(["high", "medium"])),
        start,
        start + length if length else None,
    )


facts_strategy = st.builds(
    Facts,
    samples=st.lists(samples(), max_size=4).map(tuple),
    flags=st.lists(flags(), max_size=4).map(tuple),
    policies=st.just(HANGZHOU),
    stays=st.lists(stays(), max_size=3).map(tuple),
    areas=st.lists(areas(), max_size=3).map(tuple),
)
bad_facts = st.one_of(
    flags().map(lambda f: ("flag", f)),
    samples().filter(lambda s: s.result == "positive").map(lambda s: ("sample", s)),
    stays().map(lambda s: ("stay", s)),
    areas().map(lambda a: ("area", a)),
)


@settings(max_examples=300, deadline=None)
@given(facts=facts_strategy, extra=bad_facts, now=offsets)
def test_adding_a_red_or_yellow_fact_never_makes_the_colour_greener(facts, extra, now):
    kind, fact = extra
    field = {"flag": "flags", "sample": "samples", "stay": "stays", "area": "areas"}[kind]
    more = Facts(**{**facts.__dict__, field: (*getattr(facts, field), fact)})
    before, after = engine.evaluate(facts, now), engine.evaluate(more, now)
    assert not engine.worse(before.colour, after.colour)
    assert {r.fact for r in before.reasons if r.code != "no_abnormality"} <= {
        r.fact for r in after.reasons
    }


@settings(max_examples=200, deadline=None)
@given(facts=facts_strategy, now=offsets)
def test_nothing_changes_before_the_review_time(facts, now):
    status = engine.evaluate(facts, now)
    if status.review_at is None:
        later = engine.evaluate(facts, now + 400 * D)
    else:
        later = engine.evaluate(facts, status.review_at - dt.timedelta(microseconds=1))
    assert (later.colour, [r.fact for r in later.reasons]) == (
        status.colour,
        [r.fact for r in status.reasons],
    )
    assert later.test.valid_now == status.test.valid_now


def test_an_open_stay_ends_14_days_after_the_area_is_lifted():
    area = Area("area:9", "110100", "high", at(2022, 3, 1), at(2022, 3, 10))
    stay = Stay("stay:9", "110105", at(2022, 2, 20), None)  # still living there
    facts = Facts(stays=(stay,), areas=(area,))
    assert engine.evaluate(facts, at(2022, 3, 24) - S).colour == "red"
    status = engine.evaluate(facts, at(2022, 3, 24))
    assert status.colour == "green" and status.review_at is None


def test_only_the_hours_spent_there_while_at_risk_count():
    area = Area("area:9", "110105", "high", at(2022, 3, 1, 8), at(2022, 3, 1, 12))
    short = Stay("stay:1", "110105", at(2022, 3, 1, 11), at(2022, 3, 1, 18))  # 1 h at risk
    long = Stay("stay:2", "110105", at(2022, 3, 1, 7), at(2022, 3, 1, 18))  # 4 h at risk
    now = at(2022, 3, 2)
    assert engine.evaluate(Facts(stays=(short,), areas=(area,)), now).colour == "green"
    status = engine.evaluate(Facts(stays=(long,), areas=(area,)), now)
    assert status.colour == "red"
    assert status.reasons[0].since == at(2022, 3, 1, 12)
    assert status.reasons[0].until == at(2022, 3, 15, 12)
