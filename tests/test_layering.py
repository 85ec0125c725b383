"""Imports go one way: the residents' app (healthcode) is what the others build on.

Identity cleaning, the engine, tokens and recompute live in healthcode; other apps import them
from there. healthcode reads the facts other apps store (nucleic's samples and policies), but
never their services, views or APIs — that would be a circle (it once imported its identity
cleaner back through nucleic.services). The one exception is the audit trail's service, which
every app writes to, healthcode's recompute and lookups included.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OTHER_APPS = (
    "nucleic",
    "venues",
    "checkins",
    "proxy_scan",
    "records",
    "tracing",
    "audit",
    "vaccination",
    "appeals",  # the code page shows appeals through a template tag, not an import
)
# Facts the engine reads, and the audit trail every app writes to through its one service
# (audit builds on healthcode's residents and never imports its services).
ALLOWED = {"nucleic.models", "audit.models", "audit.services"}


def imported_modules(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def test_healthcode_imports_no_other_app_but_the_facts_it_reads():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in (ROOT / "healthcode").rglob("*.py")
        # Migrations are frozen history; seed_demo fills every app with demo data.
        if "migrations" not in path.parts and "management" not in path.parts
        for line, module in imported_modules(path)
        if module.split(".")[0] in OTHER_APPS and module not in ALLOWED
    ]
    assert wrong == []
