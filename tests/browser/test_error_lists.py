"""Several errors are shown one a line, each naming its field, never joined with "；" into
doubled punctuation (issue 11: 该字段不能为空。；该字段不能为空。): the inspector's manual
registration at the door (static/js/inspect.js) and the officer's risk-list import report
(templates/healthcode/risk_flags_import.html), on a 375×812 phone."""

import os

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from checkins.models import CheckIn
from healthcode.models import RiskFlag, User
from tests.browser.test_inspect_door import inspector_at
from tests.browser.test_proxy_scan import LISTEN_CSP, log_in
from tests.factories import PASSWORD, make_venue, resident_id

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def items(page, selector) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_the_door_manual_form_lists_each_error_on_its_own_line(site, phone_page, artifacts_dir):
    page = phone_page
    page.context.add_init_script(LISTEN_CSP)
    inspector_at(make_venue(full_name="文三路联华超市"))
    log_in(page, site, "13511112000", "/inspect/")
    page.click("#manual summary")
    page.click("#m-submit")  # name and ID number left empty: two errors, not one joined
    page.wait_for_selector("#m-errors li")
    assert items(page, "#m-errors li") == ["姓名：该字段不能为空。", "证件号码：该字段不能为空。"]
    assert "。；" not in page.inner_text("#m-errors")
    for field in ("#m-name", "#m-id"):
        assert page.get_attribute(field, "aria-invalid") == "true", field
    assert page.get_attribute("#m-phone", "aria-invalid") is None
    page.screenshot(path=os.path.join(artifacts_dir, "inspect-manual-errors.png"), full_page=True)
    assert CheckIn.objects.count() == 0

    page.fill("#m-name", "王小二")  # fixed: its line and its mark go
    page.fill("#m-id", resident_id(seq=7))
    page.click("#m-submit")
    page.wait_for_selector("#done:not([hidden])")
    assert items(page, "#m-errors li") == []
    assert page.get_attribute("#m-name", "aria-invalid") is None
    assert page.evaluate("window.__csp") == []


def test_the_import_report_lists_each_rejected_field_on_its_own_line(
    site, phone_page, artifacts_dir
):
    officer = User.objects.create_user(phone="13511110004", password=PASSWORD)
    officer.user_permissions.add(Permission.objects.get(codename="add_riskflag"))
    page = phone_page
    log_in(page, site, officer.phone, "/officer/risk-flags/")
    now = timezone.localtime()
    rows = [
        "source,external_id,id_type,id_number,name,kind,starts_at",
        f"cdc,B2,resident_id,110105199001011234,,nonsense,{now:%Y-%m-%d %H:%M}",
    ]
    page.set_input_files(
        "#id_file",
        files=[{"name": "flags.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}],
    )
    page.click("main button[type=submit]")
    page.wait_for_selector("#report")
    lines = items(page, ".report-error .error-list li")
    assert len(lines) >= 3, lines  # ID number, name, kind: one line each
    assert any(line.startswith("证件号码") for line in lines), lines
    assert "请填写姓名。" in lines  # names its field already: no prefix
    assert any(line.startswith("类别：") for line in lines), lines
    text = page.inner_text(".report-errors")
    assert "；" not in text and "id_number" not in text and "kind：" not in text
    shot = os.path.join(artifacts_dir, "risk-flags-import-errors.png")
    page.screenshot(path=shot, full_page=True)
    assert not RiskFlag.objects.exists()
