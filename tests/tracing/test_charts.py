"""Server-side SVG charts (tracing/charts.py), read back with a real XML parser."""

import datetime as dt
import os
import xml.etree.ElementTree as ET

import pytest

from tracing import charts

SVG = "{http://www.w3.org/2000/svg}"
VENUE = "文三路<超市> & \"联华\" 'A'"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def by_class(root, tag: str, cls: str) -> list[ET.Element]:
    return [el for el in root.iter(f"{SVG}{tag}") if cls in el.get("class", "").split()]


def plot_area(root) -> tuple[float, float, float, float]:
    (area,) = by_class(root, "rect", "plot-area")
    return tuple(float(area.get(k)) for k in ("x", "y", "width", "height"))


def hourly(counts, title="扫码人次", start=dt.datetime(2026, 11, 7)):
    return charts.hourly_column_chart(title=title, start=start, counts=counts)


def test_one_column_per_hour_for_fourteen_days():
    counts = [(i * 7) % 23 for i in range(14 * 24)]
    root = parse(hourly(counts))
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 336
    xs = [float(bar.get("x")) for bar in bars]
    assert xs == sorted(xs) and len(set(xs)) == 336  # side by side, none on another
    x, _y, width, _h = plot_area(root)
    assert xs[0] >= x and xs[-1] + float(bars[-1].get("width")) <= x + width + 1e-6


def test_the_tallest_column_reaches_the_top_and_others_scale():
    root = parse(
        charts.column_chart(title="t", labels=["a", "b", "c", "d"], values=[10, 40, 20, 0])
    )
    _x, top, _w, height = plot_area(root)
    a, b, c, d = by_class(root, "rect", "bar")
    assert float(b.get("y")) == pytest.approx(top)
    assert float(b.get("height")) == pytest.approx(height)
    assert float(c.get("height")) == pytest.approx(height / 2)
    assert float(a.get("height")) == pytest.approx(height / 4)
    assert float(d.get("height")) == 0  # a zero hour is drawn, flat on the axis
    for bar in (a, b, c, d):  # every column stands on the axis
        bottom = float(bar.get("y")) + float(bar.get("height"))
        assert bottom == pytest.approx(top + height)


def test_value_ticks_are_round_and_not_above_the_largest_value():
    root = parse(charts.column_chart(title="t", labels=["a", "b"], values=[3, 37]))
    (ticks,) = by_class(root, "g", "y-ticks")
    labels = [el.text for el in ticks.iter(f"{SVG}text")]
    assert labels == ["0", "10", "20", "30"]


def test_large_counts_are_written_in_wan():
    series = charts.colour_series({"green": [980000, 1020000]})
    root = parse(charts.line_chart(title="t", labels=["11-19", "11-20"], series=series))
    (ticks,) = by_class(root, "g", "y-ticks")
    assert "100万" in [el.text for el in ticks.iter(f"{SVG}text")]


def test_hours_are_labelled_and_midnights_ticked():
    root = parse(hourly([1] * 48, start=dt.datetime(2026, 11, 19, 0)))
    bars = by_class(root, "rect", "bar")
    assert bars[8].find(f"{SVG}title").text == "11-19 08时：1人次"
    (ticks,) = by_class(root, "g", "x-ticks")
    assert [el.text for el in ticks.iter(f"{SVG}text")] == ["11-19", "11-20"]


def test_fourteen_days_get_few_enough_date_ticks_to_read():
    root = parse(hourly([1] * 336))
    (ticks,) = by_class(root, "g", "x-ticks")
    dates = [el.text for el in ticks.iter(f"{SVG}text")]
    assert 3 <= len(dates) <= 6 and dates[0] == "11-07"


def test_text_is_escaped_in_title_desc_tooltips_and_legend():
    svg = charts.column_chart(title=VENUE, labels=[VENUE], values=[3], desc=VENUE)
    assert "<超市>" not in svg and "&lt;超市&gt; &amp;" in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == VENUE
    assert root.find(f"{SVG}desc").text == VENUE
    assert by_class(root, "text", "chart-title")[0].text == VENUE
    assert by_class(root, "rect", "bar")[0].find(f"{SVG}title").text == f"{VENUE}：3"
    series = [charts.Series(name=VENUE, values=[1, 2], colour="#123456")]
    line = parse(charts.line_chart(title="t", labels=["<a>", "&b"], series=series))
    assert [el.text for el in by_class(line, "text", "legend-label")] == [VENUE]
    assert by_class(line, "circle", "point")[0].find(f"{SVG}title").text == f"{VENUE} <a>：1"


def test_a_chart_id_cannot_break_out_of_its_attribute():
    root = parse(charts.column_chart(title="t", labels=[], values=[], chart_id='x" onload="y'))
    assert root.get("onload") is None
    assert root.get("aria-labelledby") == "x--onload--y-title x--onload--y-desc"


@pytest.mark.parametrize("colour", ["url(https://example.com/x.svg#p)", "red", '#fff" x="'])
def test_only_hex_colours_are_accepted(colour):
    with pytest.raises(ValueError):
        charts.column_chart(title="t", labels=["a"], values=[1], colour=colour)
    with pytest.raises(ValueError):
        charts.line_chart(
            title="t", labels=["a"], series=[charts.Series(name="s", values=[1], colour=colour)]
        )


def test_no_scripts_no_external_references_and_it_scales():
    svgs = [
        hourly([i % 9 for i in range(336)], title=VENUE),
        charts.line_chart(
            title=VENUE,
            labels=["11-19", "11-20"],
            series=charts.colour_series({"green": [5, 6], "yellow": [1, 2], "red": [0, 1]}),
        ),
        charts.column_chart(title=VENUE, labels=[], values=[]),
    ]
    for svg in svgs:
        root = parse(svg)
        tags = {el.tag.removeprefix(SVG) for el in root.iter()}
        assert not tags & {"script", "foreignObject", "image", "use", "a", "style"}
        attributes = [(k, v) for el in root.iter() for k, v in el.attrib.items()]
        assert not [k for k, _v in attributes if "href" in k or k.startswith("on")]
        assert "url(" not in svg and "@import" not in svg
        assert svg.count("http") == 1  # the xmlns only
        # Scales to its container (a 375 px phone): a viewBox and no fixed size.
        assert root.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
        assert root.get("width") is None and root.get("height") is None
        # Named for screen readers by its <title> and <desc>.
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby").split()
        assert root.find(f"{SVG}title").get("id") == title_id
        assert root.find(f"{SVG}desc").get("id") == desc_id


def test_empty_series_say_no_data_instead_of_failing():
    empty_columns = parse(hourly([]))
    assert [el.text for el in by_class(empty_columns, "text", "empty")] == ["暂无数据"]
    assert by_class(empty_columns, "rect", "bar") == []
    assert empty_columns.find(f"{SVG}desc").text == "暂无数据"
    for series in ([], charts.colour_series({"green": [None, None], "red": [None, None]})):
        root = parse(charts.line_chart(title="t", labels=["11-19", "11-20"], series=series))
        assert [el.text for el in by_class(root, "text", "empty")] == ["暂无数据"]
        assert by_class(root, "circle", "point") == []
    no_points = parse(charts.line_chart(title="t", labels=[], series=charts.colour_series({})))
    assert by_class(no_points, "text", "empty")


def test_data_charts_do_not_say_no_data():
    root = parse(charts.column_chart(title="t", labels=["a"], values=[0]))
    assert by_class(root, "text", "empty") == []  # zero is a value, not missing
    assert len(by_class(root, "rect", "bar")) == 1


def test_line_chart_points_legend_and_gaps():
    counts = {
        "green": [900, 880, 870, 860],
        "yellow": [10, 20, 30, 40],
        "red": [0, None, 2, 3],  # one day unknown
    }
    root = parse(
        charts.line_chart(
            title="西湖区居民健康码",
            labels=["11-17", "11-18", "11-19", "11-20"],
            series=charts.colour_series(counts),
            unit="人",
        )
    )
    groups = by_class(root, "g", "series")
    assert [len(g.findall(f"{SVG}circle")) for g in groups] == [4, 4, 3]
    assert [len(g.findall(f"{SVG}polyline")) for g in groups] == [1, 1, 2]  # a gap, not a 0
    assert [g.get("stroke") for g in groups] == ["#07a35a", "#f2b100", "#e23b32"]
    labels = by_class(root, "text", "legend-label")
    assert [el.text for el in labels] == ["绿码", "黄码", "红码"]
    fills = {el.text: el.get("fill") for el in labels}
    assert fills["黄码"] == "#1f1f1f"  # dark on yellow
    assert fills["绿码"] == fills["红码"] == "#ffffff"
    _x, top, _w, height = plot_area(root)
    highest = min(float(c.get("cy")) for c in root.iter(f"{SVG}circle"))
    lowest = max(float(c.get("cy")) for c in root.iter(f"{SVG}circle"))
    assert highest == pytest.approx(top)  # 900 at the top
    assert lowest == pytest.approx(top + height)  # 0 on the axis


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        charts.column_chart(title="t", labels=["a", "b"], values=[1])
    with pytest.raises(ValueError):
        charts.line_chart(title="t", labels=["a"], series=charts.colour_series({"green": [1, 2]}))


@pytest.mark.browser
def test_charts_render_at_phone_width(browser, artifacts_dir):
    """Looked at by a person: artifacts/screenshots/charts-375.png."""
    days = [f"11-{d:02d}" for d in range(7, 21)]
    svgs = [
        hourly([(i % 24) * (i % 24 < 20) for i in range(336)], title=VENUE),
        charts.line_chart(
            title="西湖区居民健康码",
            labels=days,
            series=charts.colour_series(
                {
                    "green": [9000 - 40 * i for i in range(14)],
                    "yellow": [300 + 90 * i for i in range(14)],
                    "red": [None if i == 4 else 20 * i for i in range(14)],
                }
            ),
            unit="人",
            chart_id="residents",
        ),
        charts.column_chart(title="每日密接人数", labels=[], values=[], chart_id="contacts"),
    ]
    page = browser.new_page(viewport={"width": 375, "height": 700}, device_scale_factor=2)
    try:
        page.set_content(f"<body style='margin:0'>{''.join(svgs)}</body>")
        boxes = [page.locator("svg").nth(i).bounding_box() for i in range(3)]
        for box in boxes:
            assert box["width"] == pytest.approx(375, abs=1)
            assert box["height"] == pytest.approx(375 * charts.HEIGHT / charts.WIDTH, abs=1)
        assert page.locator("text.empty").is_visible()
        shot = os.path.join(artifacts_dir, "charts-375.png")
        page.screenshot(path=shot, full_page=True)
        assert os.path.getsize(shot) > 10_000
    finally:
        page.close()
