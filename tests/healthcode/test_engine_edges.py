"""More of the engine's rules at their exact edges: the order of reasons, the review time, the
test window's basis, the door's decisions with their exact texts, and what the stored forms
(``as_dict``) hold. Times are explicit: the engine has no clock. Written against the surviving
mutants of ``make mutants``."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from healthcode import engine
from healthcode.engine import (
    Area,
    Decision,
    Facts,
    Flag,
    Policy,
    Reason,
    Sample,
    Stay,
    TestStatus,
)

SH = ZoneInfo("Asia/Shanghai")
S = dt.timedelta(seconds=1)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


NOW = at(2022, 6, 10, 12)
BY_SAMPLING = Policy("policy:72", 72, "sampling", True, at(2020, 1, 1))
BY_RESULT = Policy("policy:r48", 48, "result", True, at(2020, 1, 1))


def negative(ref, sampled, reported):
    return Sample(ref, sampled, reported, "negative")


# --- Reasons and their order -------------------------------------------------------------------
def test_green_has_one_reason_without_a_fact_or_times():
    status = engine.evaluate(Facts(), NOW)
    assert status.reasons == (Reason("no_abnormality", "green", "未见异常", "", None, None),)
    assert status.test == TestStatus("none")


def test_a_flag_reason_carries_its_rule_fact_and_times():
    flag = Flag("flag:3", "symptoms", NOW - D, NOW + D)
    status = engine.evaluate(Facts(flags=(flag,)), NOW)
    assert status.reasons == (
        Reason("symptoms", "yellow", "有发热、干咳、气促等呼吸道症状", "flag:3", NOW - D, NOW + D),
    )
    assert status.review_at == NOW + D


def test_reasons_of_one_colour_are_ordered_by_since_then_code_then_fact():
    flags = (
        Flag("flag:9", "fever_clinic", NOW - D, None),  # later, and first by code
        Flag("flag:8", "symptoms", NOW - 2 * D, None),  # earlier
        Flag("flag:2", "database_abnormal", NOW - D, None),  # same time: by code
        Flag("flag:1", "fever_clinic", NOW - D, None),  # same time and code: by fact
    )
    status = engine.evaluate(Facts(flags=flags), NOW)
    assert [(r.code, r.fact) for r in status.reasons] == [
        ("symptoms", "flag:8"),
        ("database_abnormal", "flag:2"),
        ("fever_clinic", "flag:1"),
        ("fever_clinic", "flag:9"),
    ]
    assert status.colour == "yellow"


def test_red_comes_first_even_when_it_began_later():
    flags = (
        Flag("flag:1", "symptoms", NOW - 3 * D, None),
        Flag("flag:2", "confirmed", NOW - D, None),
    )
    status = engine.evaluate(Facts(flags=flags), NOW)
    assert [r.code for r in status.reasons] == ["confirmed", "symptoms"]
    assert status.colour == "red"


def test_unknown_and_green_flag_kinds_are_ignored_not_the_flags_after_them():
    flags = (
        Flag("flag:1", "no_such_kind", NOW - D, None),
        Flag("flag:2", "no_abnormality", NOW - D, None),
        Flag("flag:3", "close_contact", NOW - D, None),
    )
    status = engine.evaluate(Facts(flags=flags), NOW)
    assert [r.fact for r in status.reasons] == ["flag:3"]
    assert status.colour == "red"
    only_ignored = engine.evaluate(Facts(flags=flags[:2]), NOW)
    assert only_ignored.colour == "green" and only_ignored.review_at is None


def test_a_positive_without_a_report_time_raises_nothing():
    positive = Sample("sample:1", NOW - H, None, "positive")
    status = engine.evaluate(Facts(samples=(positive,)), NOW)
    assert status.colour == "green"


def test_a_positive_reason_lasts_14_days_from_its_report():
    reported = NOW - H
    positive = Sample("sample:5", NOW - 5 * H, reported, "positive")
    status = engine.evaluate(Facts(samples=(negative("sample:4", NOW - D, NOW - D), positive)), NOW)
    assert status.reasons == (
        Reason("positive_result", "red", "核酸阳性", "sample:5", reported, reported + 14 * D),
    )
    assert status.test.state == "positive" and status.test.last_sampled_at == NOW - 5 * H


# --- The itinerary -----------------------------------------------------------------------------
def test_areas_and_stays_that_do_not_apply_do_not_hide_those_that_do():
    elsewhere = Area("area:1", "320100", "high", NOW - 10 * D, None)
    too_short = Area("area:2", "310104", "high", NOW - 3 * D, NOW - 3 * D + 3 * H)
    applies = Area("area:3", "310100", "medium", NOW - 10 * D, None)
    stay = Stay("stay:1", "310104", NOW - 5 * D, NOW - 2 * D)
    status = engine.evaluate(Facts(stays=(stay,), areas=(elsewhere, too_short, applies)), NOW)
    assert status.reasons == (
        Reason(
            "from_medium_risk_area",
            "yellow",
            "来自疫情中风险地区",
            "stay:1/area:3",
            NOW - 5 * D + 4 * H,
            NOW - 2 * D + 14 * D,
        ),
    )


def test_a_stay_that_left_before_the_area_was_lifted_counts_from_leaving():
    area = Area("area:1", "310104", "high", NOW - 10 * D, NOW - D)
    stay = Stay("stay:1", "310104", NOW - 9 * D, NOW - 5 * D)
    (reason,) = engine.evaluate(Facts(stays=(stay,), areas=(area,)), NOW).reasons
    assert (reason.since, reason.until) == (NOW - 9 * D + 4 * H, NOW - 5 * D + 14 * D)


@pytest.mark.parametrize(
    ("area_code", "prefix"),
    [("310000", "31"), ("310100", "3101"), ("310104", "310104"), ("110000", "11")],
)
def test_area_prefix(area_code, prefix):
    assert engine.area_prefix(area_code) == prefix


# --- The test window ---------------------------------------------------------------------------
def test_a_sample_taken_exactly_now_is_the_latest():
    pending = Sample("sample:2", NOW, None, "pending")
    status = engine.evaluate(Facts(samples=(pending,), policies=(BY_SAMPLING,)), NOW)
    assert (status.test.state, status.test.last_sampled_at) == ("pending", NOW)
    assert status.test.valid_until == NOW + 72 * H and status.test.valid_now


def test_a_result_reported_exactly_now_counts():
    policy = Policy("p", 72, "sampling", False, at(2020, 1, 1))
    sample = negative("sample:1", NOW - 10 * H, NOW)
    status = engine.evaluate(Facts(samples=(sample,), policies=(policy,)), NOW)
    assert (status.test.state, status.test.valid_now) == ("negative", True)
    before = engine.evaluate(Facts(samples=(sample,), policies=(policy,)), NOW - S)
    assert not before.test.valid_now and before.test.basis_sampled_at is None
    assert before.review_at == NOW  # the report arrives


def test_a_sample_taken_later_is_a_review_time():
    later = Sample("sample:3", NOW + 2 * H, None, "pending")
    status = engine.evaluate(Facts(samples=(later,), policies=(BY_SAMPLING,)), NOW)
    assert status.test.state == "none" and status.review_at == NOW + 2 * H


def test_the_end_of_the_window_is_the_review_time():
    sample = negative("sample:1", NOW - 10 * H, NOW - 5 * H)
    status = engine.evaluate(Facts(samples=(sample,), policies=(BY_SAMPLING,)), NOW)
    assert status.review_at == NOW + 62 * H == status.test.valid_until


def test_without_a_record_the_policy_is_still_reported():
    status = engine.evaluate(Facts(policies=(BY_SAMPLING,)), NOW)
    assert status.test == TestStatus(
        "none", window_hours=72, counts_from="sampling", policy="policy:72"
    )


def test_the_full_test_status_inside_and_after_the_window():
    sample = negative("sample:1", NOW - 10 * H, NOW - 4 * H)
    inside = engine.evaluate(Facts(samples=(sample,), policies=(BY_RESULT,)), NOW).test
    assert inside == TestStatus(
        "negative",
        last_sampled_at=NOW - 10 * H,
        last_result="negative",
        basis_sampled_at=NOW - 10 * H,
        window_hours=48,
        counts_from="result",
        valid_until=NOW + 44 * H,
        valid_now=True,
        policy="policy:r48",
    )
    after = engine.evaluate(Facts(samples=(sample,), policies=(BY_RESULT,)), NOW + 44 * H).test
    assert after == TestStatus(
        "expired",
        last_sampled_at=NOW - 10 * H,
        last_result="negative",
        basis_sampled_at=NOW - 10 * H,
        window_hours=48,
        counts_from="result",
        valid_until=NOW + 44 * H,
        valid_now=False,
        policy="policy:r48",
    )


def test_an_invalid_latest_sample_after_the_window():
    old = negative("sample:1", NOW - 100 * H, NOW - 95 * H)
    bad = Sample("sample:2", NOW - 2 * H, NOW - H, "invalid")
    status = engine.evaluate(Facts(samples=(old, bad), policies=(BY_SAMPLING,)), NOW).test
    assert (status.state, status.valid_now, status.valid_until) == (
        "invalid",
        False,
        NOW - 100 * H + 72 * H,
    )
    assert status.basis_sampled_at == NOW - 100 * H and status.last_result == "invalid"


def test_a_pending_latest_sample_after_the_window_is_pending_not_expired():
    strict = Policy("p", 24, "sampling", False, at(2020, 1, 1))
    old = negative("sample:1", NOW - 50 * H, NOW - 45 * H)
    pending = Sample("sample:2", NOW - H, None, "pending")
    status = engine.evaluate(Facts(samples=(old, pending), policies=(strict,)), NOW).test
    assert (status.state, status.valid_now) == ("pending", False)


def test_only_an_invalid_sample_has_no_basis():
    bad = Sample("sample:1", NOW - 2 * H, NOW - H, "invalid")
    status = engine.evaluate(Facts(samples=(bad,), policies=(BY_SAMPLING,)), NOW).test
    assert (status.state, status.basis_sampled_at, status.valid_until) == ("invalid", None, None)


@pytest.mark.parametrize(
    ("result", "state"), [("negative", "negative"), ("pending", "pending"), ("invalid", "invalid")]
)
def test_without_a_policy_the_latest_result_is_reported_without_a_window(result, state):
    sample = Sample("sample:1", NOW - 2 * H, None if result == "pending" else NOW - H, result)
    status = engine.evaluate(Facts(samples=(sample,)), NOW).test
    assert status == TestStatus(
        state,
        last_sampled_at=NOW - 2 * H,
        last_result=result,
        basis_sampled_at=None if result == "invalid" else NOW - 2 * H,
    )


def test_the_basis_follows_what_the_policy_counts_from():
    # A sampled first but reported last; B sampled later and reported first.
    a = negative("sample:A", NOW - 30 * H, NOW - 2 * H)
    b = negative("sample:B", NOW - 20 * H, NOW - 10 * H)
    by_sampling = engine.evaluate(Facts(samples=(a, b), policies=(BY_SAMPLING,)), NOW).test
    assert by_sampling.basis_sampled_at == NOW - 20 * H
    assert by_sampling.valid_until == NOW - 20 * H + 72 * H
    by_result = engine.evaluate(Facts(samples=(a, b), policies=(BY_RESULT,)), NOW).test
    assert by_result.basis_sampled_at == NOW - 30 * H
    assert by_result.valid_until == NOW - 2 * H + 48 * H
    no_policy = engine.evaluate(Facts(samples=(a, b)), NOW).test
    assert no_policy.basis_sampled_at == NOW - 20 * H


def test_a_sample_that_does_not_count_does_not_hide_a_later_one_that_does():
    bad = Sample("sample:1", NOW - 30 * H, NOW - 29 * H, "invalid")
    good = negative("sample:2", NOW - 20 * H, NOW - 10 * H)
    status = engine.evaluate(Facts(samples=(bad, good), policies=(BY_SAMPLING,)), NOW).test
    assert (status.state, status.valid_now, status.basis_sampled_at) == (
        "negative",
        True,
        NOW - 20 * H,
    )


def test_of_two_results_reported_together_the_later_sample_is_the_basis():
    a = negative("sample:A", NOW - 30 * H, NOW - 2 * H)
    b = negative("sample:B", NOW - 20 * H, NOW - 2 * H)
    status = engine.evaluate(Facts(samples=(a, b), policies=(BY_RESULT,)), NOW).test
    assert status.basis_sampled_at == NOW - 20 * H


def test_a_pending_sample_counts_only_under_a_sampling_policy_that_says_so():
    pending = Sample("sample:1", NOW - H, None, "pending")
    counting = engine.evaluate(Facts(samples=(pending,), policies=(BY_SAMPLING,)), NOW).test
    assert (counting.state, counting.valid_now, counting.basis_sampled_at) == (
        "pending",
        True,
        NOW - H,
    )
    # Pending counts, but the window is counted from results: there is none yet.
    by_result = engine.evaluate(Facts(samples=(pending,), policies=(BY_RESULT,)), NOW).test
    assert (by_result.state, by_result.valid_now, by_result.basis_sampled_at) == (
        "pending",
        False,
        None,
    )
    no_policy = engine.evaluate(Facts(samples=(pending,)), NOW).test
    assert no_policy.basis_sampled_at == NOW - H


def test_the_policy_in_effect_is_the_latest_that_began():
    older = Policy("p:old", 48, "sampling", True, NOW - 10 * D)
    newer = Policy("p:new", 24, "sampling", True, NOW - D)
    future = Policy("p:future", 72, "sampling", True, NOW + D)
    assert engine.policy_at((future, newer, older), NOW) == newer
    assert engine.policy_at((future, older), NOW) == older
    assert engine.policy_at((future,), NOW) is None
    assert engine.policy_at((future,), NOW + D) == future


# --- The stored forms --------------------------------------------------------------------------
def test_reason_as_dict():
    reason = Reason("close_contact", "red", "隔离医学观察的密切接触者", "flag:1", NOW, NOW + D)
    assert reason.as_dict() == {
        "code": "close_contact",
        "text": "隔离医学观察的密切接触者",
        "colour": "red",
        "fact": "flag:1",
        "since": "2022-06-10T12:00:00+08:00",
        "until": "2022-06-11T12:00:00+08:00",
    }
    green = Reason("no_abnormality", "green", "未见异常", "", None, None).as_dict()
    assert (green["since"], green["until"]) == (None, None)


def test_test_status_as_dict():
    status = TestStatus(
        "negative",
        last_sampled_at=NOW - H,
        last_result="negative",
        basis_sampled_at=NOW - 2 * H,
        window_hours=72,
        counts_from="sampling",
        valid_until=NOW + D,
        valid_now=True,
        policy="policy:72",
    )
    assert status.as_dict() == {
        "state": "negative",
        "last_sampled_at": "2022-06-10T11:00:00+08:00",
        "last_result": "negative",
        "basis_sampled_at": "2022-06-10T10:00:00+08:00",
        "window_hours": 72,
        "counts_from": "sampling",
        "valid_until": "2022-06-11T12:00:00+08:00",
        "valid_now": True,
        "policy": "policy:72",
    }
    assert TestStatus("none").as_dict() == {
        "state": "none",
        "last_sampled_at": None,
        "last_result": None,
        "basis_sampled_at": None,
        "window_hours": None,
        "counts_from": None,
        "valid_until": None,
        "valid_now": False,
        "policy": None,
    }


# --- At the door -------------------------------------------------------------------------------
IN_TIME = {"state": "negative", "window_hours": 72, "valid_now": True}


def decide(colour="green", test=None, required_hours=None, test_required=True, fever=False):
    return engine.entry_decision(
        colour=colour,
        test=IN_TIME if test is None else test,
        required_hours=required_hours,
        test_required=test_required,
        now=NOW,
        fever=fever,
    )


def test_the_door_decisions_and_their_texts():
    assert decide() == Decision(True, "pass", "绿码，可以通行")
    assert decide("red") == Decision(False, "red", "红码，禁止通行")
    assert decide("yellow") == Decision(False, "yellow", "黄码，禁止通行")
    assert decide(fever=True) == Decision(False, "fever", "体温异常（≥37.3℃），禁止通行")
    assert decide(test={"state": "none", "window_hours": 72, "valid_now": False}) == Decision(
        False, "no_test", "暂无核酸检测记录，禁止通行"
    )
    overdue = {"state": "expired", "window_hours": 72, "valid_now": False}
    assert decide(test=overdue) == Decision(
        False, "test_overdue", "核酸超时（要求 72 小时内），禁止通行"
    )


def test_no_fever_unless_measured():
    decision = engine.entry_decision(
        colour="green", test=IN_TIME, required_hours=None, test_required=True, now=NOW
    )
    assert decision.passed


def test_a_colour_stops_before_a_fever_is_asked():
    assert decide("red", fever=True).code == "red"
    assert decide("yellow", fever=True).code == "yellow"


def test_a_venue_that_checks_no_test_passes_a_green_code_without_one():
    assert decide(test={}, test_required=False).passed
    assert decide(test={}, required_hours=24, test_required=False).passed
    assert not decide(test={}, fever=True, test_required=False).passed


def test_without_a_policy_window_a_green_code_passes():
    assert decide(test={"state": "none", "window_hours": None, "valid_now": False}).passed


def test_a_stored_status_without_a_state_is_no_test():
    assert decide(test={"window_hours": 72}).code == "no_test"
    assert decide(test={}, required_hours=24).code == "no_test"


@pytest.mark.parametrize(("offset", "passed"), [(-S, True), (dt.timedelta(0), False)])
def test_the_venues_own_window_counts_from_sampling(offset, passed):
    basis = NOW - 24 * H - offset
    test = {"state": "negative", "basis_sampled_at": basis.isoformat(), "valid_now": True}
    decision = decide(test=test, required_hours=24)
    assert decision.passed is passed
    if not passed:
        assert decision == Decision(False, "test_overdue", "核酸超时（要求 24 小时内），禁止通行")


def test_the_venues_window_without_a_sample_is_no_test_or_overdue():
    assert decide(test={"state": "none"}, required_hours=48).code == "no_test"
    pending_without_basis = {"state": "pending", "basis_sampled_at": None, "valid_now": True}
    assert decide(test=pending_without_basis, required_hours=48).code == "test_overdue"


def test_worse():
    assert engine.worse("red", "yellow") and engine.worse("yellow", "green")
    assert not engine.worse("green", "green") and not engine.worse("red", "red")
    assert not engine.worse("green", "red")
