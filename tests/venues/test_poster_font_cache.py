"""The poster's font is cut down once per character set and kept (issue 11: ~200 ms a poster
to ≤ 50 ms): posters drawn one after another each carry their own venue's text, whole, and a
poster drawn again reuses its cut font instead of subsetting the 3.6 MB font again."""

import pytest

from tests.factories import make_venue
from tests.venues.test_poster_fonts import font_rows, text_lines
from venues import posters

pytestmark = pytest.mark.django_db

URL = "http://testserver/v/x"


def test_two_venues_in_a_row_each_poster_names_its_own_venue():
    first = make_venue(full_name="文三路联华超市", address="文三路 100 号")
    second = make_venue(full_name="黄龙体育中心北门", address="曙光路 8 号")
    for venue, other in [(first, second), (second, first), (first, second)]:
        lines = text_lines(posters.poster_pdf(venue, URL))
        assert venue.full_name in lines and f"场所编号 {venue.number}" in lines
        assert any(venue.address in line for line in lines)
        text = "".join(lines)
        assert other.full_name not in text and other.address not in text
        assert "〓" not in text  # every character of this venue has its glyph


def test_the_font_is_cut_once_per_character_set_and_still_embedded(monkeypatch):
    venue = make_venue(full_name="西溪湿地游客中心")
    cuts = []
    cut = posters._cut_font
    monkeypatch.setattr(posters, "_cut_font", lambda chars: cuts.append(chars) or cut(chars))
    monkeypatch.setattr(posters, "_font_files", type(posters._font_files)())
    first = posters.poster_pdf(venue, URL)
    again = posters.poster_pdf(venue, URL)
    assert len(cuts) == 1 and "溪" in cuts[0]
    assert text_lines(first) == text_lines(again)
    rows = font_rows(again)
    assert rows and all(row[-5] == "yes" for row in rows)  # embedded
    renamed = make_venue(full_name="西溪湿地游客中心东区")  # one new character: a new cut
    assert "西溪湿地游客中心东区" in text_lines(posters.poster_pdf(renamed, URL))
    assert len(cuts) == 2


def test_a_font_leaving_the_cache_is_deleted_and_cut_again_when_needed(monkeypatch):
    monkeypatch.setattr(posters, "FONT_CACHE_SIZE", 1)
    monkeypatch.setattr(posters, "_font_files", type(posters._font_files)())
    one, two = make_venue(full_name="灵隐寺景区"), make_venue(full_name="武林广场地铁站")
    posters.poster_pdf(one, URL)
    (first_file,) = posters._font_files.values()
    posters.poster_pdf(two, URL)
    assert not first_file.exists() and len(posters._font_files) == 1
    assert "灵隐寺景区" in text_lines(posters.poster_pdf(one, URL))
