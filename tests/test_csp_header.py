"""The Content-Security-Policy header every page carries (tests/browser/test_csp.py proves
the pages work under it in a real browser)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/login/", "/register/", "/api/v1/docs/", "/api/v1/nowhere"])
def test_pages_carry_a_strict_policy(client, url):
    policy = client.get(url)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy


def test_no_template_has_inline_script_or_handlers():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "templates"
    for template in root.rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html), template
        assert not re.search(r"\son[a-z]+=", html), template
        assert not re.search(r"<style|\sstyle=", html), template
