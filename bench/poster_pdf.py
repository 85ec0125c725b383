"""The A4 poster PDF: milliseconds a poster, against the same drawing with the whole font handed
to fpdf2 (as before issue 11's cache), in the same run so the ratio holds on a shared machine.

    .venv/bin/python bench/poster_pdf.py [--n 30]

No database: the venues are built in memory. Three figures, each the mean of N renders:
- baseline: fpdf2 given the whole 3.6 MB font (parsed and subset again for every poster);
- cold: a venue whose characters were never drawn in this process (the font is cut for it);
- warm: the same venue again (a download repeated, a reissue): the cut font is reused.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

# Venue names drawn from many characters, so each cold render cuts a font of its own.
NAMES = "文三路联华超市 学院路书店 西溪湿地游客中心 黄龙体育中心 武林广场地铁站 湖滨银泰百货 灵隐寺景区 浙江大学紫金港校区 杭州东站候车室 西湖文化广场 钱江新城市民中心 滨江区人民医院 九堡客运中心 萧山国际机场 临平万达广场 余杭区图书馆 运河文化艺术中心 拱宸桥菜市场 凤起路菜场 南宋御街商铺".split()  # noqa: E501


def venue(n: int, name: str):
    from django.utils import timezone

    from venues.models import Venue

    return Venue(
        pk=n,
        full_name=f"{name}{n}号门",
        address=f"{name}路 {n} 号",
        region_code="330106",
        category="supermarket",
        poster_version=1,
        poster_issued_at=timezone.now(),
    )


def mean_ms(render, venues) -> float:
    started = time.perf_counter()
    for v in venues:
        render(v, "http://127.0.0.1:8000/v/" + "x" * 90)
    return (time.perf_counter() - started) / len(venues) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    import django

    django.setup()
    from venues import posters

    def whole_font(pdf, texts):  # what poster_pdf did before the cache
        pdf.add_font(posters.PDF_FONT, fname=str(posters.FONT_FILE))

    one = venue(1, "热身")
    posters.poster_pdf(one, "http://127.0.0.1/v/warm-up")  # imports, the font's cmap
    cut = posters.pdf_add_font
    posters.pdf_add_font = whole_font
    try:
        baseline = mean_ms(posters.poster_pdf, [venue(i, NAMES[i % 20]) for i in range(args.n)])
    finally:
        posters.pdf_add_font = cut
    cold = mean_ms(posters.poster_pdf, [venue(100 + i, NAMES[i % 20]) for i in range(args.n)])
    warm = mean_ms(posters.poster_pdf, [one] * args.n)
    result = {
        "n": args.n,
        "baseline_ms": round(baseline, 1),
        "cold_ms": round(cold, 1),
        "warm_ms": round(warm, 1),
        "warm_vs_baseline": round(warm / baseline, 3),
        "cold_vs_baseline": round(cold / baseline, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
