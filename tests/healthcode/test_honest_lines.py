"""Issue 11, honest states: the test line says how long ago the sample was taken and against
which window; red and yellow say what to do next and until when (pure text, exact edges)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from healthcode.models import advice, sampled_minutes_ago
from healthcode.models import test_line as line_of  # not "test_*": pytest would collect it
from tests.factories import add_flag

SH = ZoneInfo("Asia/Shanghai")
SAMPLED = dt.datetime(2022, 5, 27, 8, 30, tzinfo=SH)


def at(minutes: float) -> dt.datetime:
    return SAMPLED + dt.timedelta(minutes=minutes)


def negative(window=72, **extra):
    return {
        "state": "negative",
        "last_sampled_at": SAMPLED.isoformat(),
        "basis_sampled_at": SAMPLED.isoformat(),
        "window_hours": window,
        **extra,
    }


@pytest.mark.parametrize(
    ("elapsed", "ago"),
    [
        (0, "刚刚采样"),
        (0.99, "刚刚采样"),
        (1, "采样 1 分钟前"),
        (59.99, "采样 59 分钟前"),
        (60, "采样 1 小时前"),
        (20 * 60 + 59, "采样 20 小时前"),
        (7 * 24 * 60 - 1, "采样 167 小时前"),
        (7 * 24 * 60, "采样 7 天前"),
    ],
)
def test_the_line_says_how_long_ago_at_each_edge(elapsed, ago):
    assert line_of(negative(), at(elapsed)) == f"核酸 72 小时内阴性 · {ago}"


@pytest.mark.parametrize("window", [24, 48, 72])
def test_the_line_names_the_window_it_is_held_to(window):
    line = line_of(negative(window), at(20 * 60))
    assert line == f"核酸 {window} 小时内阴性 · 采样 20 小时前"
    assert all(f"{other} 小时" not in line for other in {24, 48, 72} - {window})


def test_the_line_counts_from_the_basis_sample_not_a_later_one():
    later = SAMPLED + dt.timedelta(hours=10)
    test = negative(last_sampled_at=later.isoformat())
    assert line_of(test, at(20 * 60)) == "核酸 72 小时内阴性 · 采样 20 小时前"


def test_pending_expired_and_no_window_lines():
    pending = {"state": "pending", "last_sampled_at": SAMPLED.isoformat(), "window_hours": 72}
    assert line_of(pending, at(180)) == "核酸结果待出 · 采样 3 小时前"
    assert line_of(negative(None), at(120)) == "核酸阴性 · 采样 2 小时前"
    expired = negative(state="expired")
    assert line_of(expired, at(80 * 60)) == "核酸已超 72 小时 · 采样 80 小时前"
    # No sample: nothing about "ago" is invented.
    assert line_of({"state": "none"}, at(0)) == "暂无核酸检测记录"
    assert sampled_minutes_ago({"state": "none"}, at(0)) is None


def test_a_sample_in_the_future_is_never_negative_minutes_ago():
    assert sampled_minutes_ago(negative(), at(-30)) == 0
    assert line_of(negative(), at(-30)) == "核酸 72 小时内阴性 · 刚刚采样"


def _reason(colour, until):
    return {"code": "x", "text": "t", "colour": colour, "fact": "", "since": None, "until": until}


def test_green_has_no_advice():
    assert advice("green", [_reason("green", None)]) == ""


def test_red_says_isolate_until_the_latest_red_end_in_beijing_time():
    early = dt.datetime(2022, 6, 3, 0, 30, tzinfo=dt.UTC).isoformat()  # 08:30 Beijing
    late = dt.datetime(2022, 6, 10, 16, 0, tzinfo=dt.UTC).isoformat()  # 06-11 00:00 Beijing
    yellow_later = dt.datetime(2022, 7, 1, tzinfo=dt.UTC).isoformat()
    text = advice(
        "red", [_reason("red", early), _reason("red", late), _reason("yellow", yellow_later)]
    )
    assert text == "请居家隔离至 2022-06-11 00:00，不要外出，并联系所在社区。"


def test_red_without_an_end_does_not_invent_one():
    end = dt.datetime(2022, 6, 3, tzinfo=dt.UTC).isoformat()
    text = advice("red", [_reason("red", end), _reason("red", None)])
    assert "至" not in text.split("；")[0] and "以社区通知为准" in text and "隔离" in text


def test_yellow_says_monitor_test_and_contact_the_community_until_its_end():
    end = dt.datetime(2022, 6, 14, 2, 0, tzinfo=dt.UTC).isoformat()
    text = advice("yellow", [_reason("yellow", end)])
    assert text.startswith("请居家健康监测至 2022-06-14 10:00")
    assert "核酸检测" in text and "联系所在社区" in text and "隔离" not in text


@pytest.mark.django_db
def test_the_code_page_and_api_give_advice_with_12345_as_a_link(client, resident):
    start = dt.datetime(2022, 6, 1, 10, tzinfo=SH)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        client.force_login(resident.user)
        green = client.get(reverse("healthcode:code")).content.decode()
        assert client.get(reverse("api-me-code")).json()["advice"] == ""
        add_flag(resident, "fever_clinic", starts=start, ends=start + dt.timedelta(days=14))
        page = client.get(reverse("healthcode:code")).content.decode()
        body = client.get(reverse("api-me-code")).json()
    assert 'id="advice" class="advice" hidden' in green
    assert "请居家健康监测至 2022-06-15 10:00" in page and 'href="tel:12345"' in page
    assert body["advice"].startswith("请居家健康监测至 2022-06-15 10:00")
    # The test object keeps its fields and meanings, with one added.
    assert body["test"]["state"] == "none" and body["test"]["sampled_minutes_ago"] is None
    assert body["test"]["line"] == "暂无核酸检测记录"
