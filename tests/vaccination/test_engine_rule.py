"""The engine's vaccination rule at the door, at its edges: a venue requiring vaccination
lets in at least ``min_doses`` doses (1 by default) and stops fewer; it is asked after the
colour, fever and test; a venue not requiring it asks nothing."""

import datetime as dt

import pytest

from healthcode import engine

NOW = dt.datetime(2022, 6, 1, 12, 0, tzinfo=dt.UTC)
IN_TIME = {"state": "negative", "window_hours": 72, "valid_now": True}
NO_TEST = {"state": "none", "window_hours": 72, "valid_now": False}


def decide(*, doses, required=True, colour="green", test=IN_TIME, fever=False, **kwargs):
    return engine.entry_decision(
        colour=colour,
        test=test,
        required_hours=None,
        test_required=True,
        now=NOW,
        fever=fever,
        vaccination_required=required,
        doses=doses,
        **kwargs,
    )


def test_the_default_minimum_is_one_dose():
    assert engine.VACCINATION_MIN_DOSES == 1


def test_zero_doses_stop_and_one_dose_passes():
    stopped = decide(doses=0)
    assert (stopped.passed, stopped.code, stopped.text) == (
        False,
        "not_vaccinated",
        "本场所要求接种新冠疫苗，未查到接种记录，禁止通行",
    )
    assert decide(doses=1) == engine.Decision(True, "pass", "绿码，可以通行")


@pytest.mark.parametrize(("doses", "passed"), [(0, False), (1, False), (2, True), (3, True)])
def test_a_higher_minimum_at_its_edge(doses, passed):
    assert decide(doses=doses, min_doses=2).passed is passed


def test_too_few_doses_says_how_many():
    assert decide(doses=1, min_doses=2).text == (
        "本场所要求接种新冠疫苗至少 2 剂，已接种 1 剂，禁止通行"
    )


def test_not_required_asks_nothing():
    assert decide(doses=0, required=False).passed is True


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"colour": "red"}, "red"),
        ({"colour": "yellow"}, "yellow"),
        ({"fever": True}, "fever"),
        ({"test": NO_TEST}, "no_test"),
    ],
)
def test_a_stronger_reason_comes_first(kwargs, code):
    assert decide(doses=0, **kwargs).code == code


def test_the_defaults_keep_every_other_door_as_it_was():
    decision = engine.entry_decision(
        colour="green", test=IN_TIME, required_hours=None, test_required=True, now=NOW
    )
    assert decision.passed is True


def test_a_person_whose_doses_are_not_given_has_none_on_record():
    decision = engine.entry_decision(
        colour="green",
        test=IN_TIME,
        required_hours=None,
        test_required=True,
        now=NOW,
        vaccination_required=True,
    )
    assert (decision.passed, decision.code) == (False, "not_vaccinated")
