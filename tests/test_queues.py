"""Every Celery task of ours goes to a queue chosen on purpose (config/settings.py), so a
backlog of recomputes cannot hold anything else behind it. A task added without a route
fails here; that its queue has a worker is checked against docker-compose.yml in
tests/test_settings_and_deploy.py. The backlog itself, with real workers:
tests/test_queues_backlog.py."""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

from config.celery import app

ROOT = Path(__file__).resolve().parent.parent
TASK_DECORATORS = {"shared_task", "task"}  # @shared_task(...), @app.task(...)


def project_apps():
    return [config for config in apps.get_app_configs() if Path(config.path).parent == ROOT]


def registered_task_names() -> set[str]:
    """The tasks of our apps as Celery registers them (autodiscovery of each app's tasks)."""
    app.loader.import_default_modules()
    labels = {config.name for config in project_apps()}
    return {name for name in app.tasks if name.split(".")[0] in labels}


def _task_name(node: ast.FunctionDef, module: str) -> str | None:
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in TASK_DECORATORS:
            explicit = [k.value.value for k in (call.keywords if call else []) if k.arg == "name"]
            return explicit[0] if explicit else f"{module}.{node.name}"
    return None


def declared_task_names() -> set[str]:
    """The tasks the source declares, found by reading every module of our apps: one in a
    module nothing imports at start-up (so not registered yet) is still found."""
    names = set()
    for config in project_apps():
        for path in Path(config.path).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = _task_name(node, module)
                    if name:
                        names.add(name)
    return names


def test_the_walks_find_our_tasks():
    """Both ways of finding tasks agree, and find the ones beat runs (not a vacuous pass)."""
    declared = declared_task_names()
    assert declared == registered_task_names()
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat <= declared
    assert {"healthcode.tasks.recompute_codes", "tracing.tasks.trace_run"} <= declared


def test_every_task_of_ours_is_routed_to_a_named_queue():
    routes = settings.CELERY_TASK_ROUTES
    unrouted = (declared_task_names() | registered_task_names()) - set(routes)
    assert not unrouted, f"route these in CELERY_TASK_ROUTES (config/settings.py): {unrouted}"
    # The default queue is the net for a forgotten route, never a choice.
    assert all(route["queue"] != settings.CELERY_TASK_DEFAULT_QUEUE for route in routes.values())
    # No stale route: each names a task that exists.
    assert set(routes) == declared_task_names()


def test_celery_routes_each_task_to_its_queue():
    """Celery itself reads the routes (the settings namespace is right): what a publish would
    pick, not just what the dict says."""
    expected = {
        "healthcode.tasks.recompute_codes": "recompute",
        "healthcode.tasks.recompute_due": "recompute",
        "tracing.tasks.trace_run": "bulk",
        "tracing.tasks.colour_counts_snapshot": "bulk",
        "retention.tasks.retention_purge": "bulk",
    }
    for name in registered_task_names():
        route = app.amqp.router.route({}, name)
        assert route["queue"].name == expected[name], name
    assert app.amqp.router.route({}, "nobody.routed.this")["queue"].name == "default"
