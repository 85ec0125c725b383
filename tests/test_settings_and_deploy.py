"""Start-up behaviour of the settings, checked in fresh processes with their own environment."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL_KEY = "k7Qv-this-is-a-long-random-production-key-for-tests-only-9fT2xLw0PzR"
ASSERTION_KEY = "8mgo8cop0ZYJg9/p76eaIT0RWSI2Yy4T4cI4LI+P/DU="  # the Makefile's test key


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "HEALTHCODE_ASSERTION_KEY",
            "HEALTHCODE_ASSERTION_ACCEPTED_KEYS",
            "DEBUG",
            "DATABASE_URL",
            "REDIS_URL",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_an_assertion_key():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="example.org", SECRET_KEY=REAL_KEY)
    assert result.returncode != 0
    assert "HEALTHCODE_ASSERTION_KEY is not set" in result.stderr


def test_production_refuses_the_development_key():
    result = manage(
        "check", DEBUG="0", ALLOWED_HOSTS="example.org", SECRET_KEY="django-insecure-" + "x" * 50
    )
    assert result.returncode != 0 and "development key" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://x/y"}, "use postgres:// or sqlite:///"),
        ({"DEBUG": "1", "DATABASE_URL": "postgres://host:notaport/db"}, "malformed"),
        ({"DEBUG": "1", "DATABASE_URL": "postgres://host/"}, "database name"),
        ({"DEBUG": "1", "REDIS_URL": "localhost:6379"}, "use redis://"),
        ({"DEBUG": "1", "ALLOWED_HOSTS": "a.org,,b.org"}, "empty item"),
        ({"DEBUG": "1", "HEALTHCODE_TOKEN_TTL_SECONDS": "five"}, "not a whole number"),
        ({"DEBUG": "1", "LOGIN_FAILURE_LIMIT": "0"}, "must be at least 1"),
        ({"DEBUG": "1", "API_TOKEN_TTL_DAYS": "soon"}, "not a whole number"),
        ({"DEBUG": "1", "STAFF_SESSION_HOURS": "400"}, "must not exceed 336"),
        ({"DEBUG": "1", "HEALTHCODE_ASSERTION_KEY": "abc"}, "HEALTHCODE_ASSERTION_KEY: not an"),
        (
            {"DEBUG": "1", "HEALTHCODE_ASSERTION_ACCEPTED_KEYS": "abc"},
            "HEALTHCODE_ASSERTION_ACCEPTED_KEYS: not an",
        ),
    ],
)
def test_malformed_values_stop_start_up_with_a_clear_message(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(("env", "expected"), [({}, "0"), ({"BEHIND_TLS_PROXY": "1"}, "1")])
def test_behind_the_tls_proxy_one_proxy_is_trusted_for_client_addresses(env, expected):
    code = "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
    result = manage("shell", "-c", code, DEBUG="1", **env)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


def test_check_deploy_is_clean_with_a_real_key():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=REAL_KEY,
        HEALTHCODE_ASSERTION_KEY=ASSERTION_KEY,
        ALLOWED_HOSTS="example.org",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_runs_without_a_key_on_the_embedded_default():
    result = manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_settings_are_chinese_and_shanghai(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


WORKERS = ("worker-recompute", "worker-bulk")


def test_docker_compose_services_and_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"web", *WORKERS, "beat", "postgres", "redis"}
    for name in ("web", *WORKERS, "beat"):
        service = services[name]
        assert service["build"] == "."
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["REDIS_URL"].startswith("redis://redis:")
        assert set(service["depends_on"]) == {"postgres", "redis"}
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    # The access log format lives in gunicorn.conf.py (paths without query strings).
    assert "--config gunicorn.conf.py" in services["web"]["command"]
    assert "--access-logformat" not in services["web"]["command"]  # not overridden here
    assert "manage.py migrate" in services["web"]["command"]
    for name in WORKERS:
        assert services[name]["command"].startswith("celery -A config worker")
    assert services["beat"]["command"].startswith("celery -A config beat")
    for name in ("web", *WORKERS, "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert set(compose["volumes"]) >= {"postgres-data", "redis-data"}
    # What the commands name exists: the WSGI module, the Celery app, the Dockerfile.
    assert (ROOT / "config" / "wsgi.py").exists() and (ROOT / "config" / "celery.py").exists()
    assert (ROOT / "Dockerfile").exists()
    from config.celery import app

    assert app.main == "healthcode"


def worker_queues(command: str) -> set[str] | None:
    """The queues a ``celery worker`` command consumes (``-Q a,b``, ``-Qa``, ``--queues=a``);
    None if it names none (it would then consume only the default queue)."""
    words = shlex.split(command)
    for i, word in enumerate(words):
        if word in ("-Q", "--queues"):
            return set(words[i + 1].split(","))
        for flag in ("--queues=", "-Q"):
            if word.startswith(flag) and word != flag:
                return set(word[len(flag) :].split(","))
    return None


def test_every_queue_has_a_compose_worker_and_each_worker_its_own_group(settings):
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    consumed = {
        name: worker_queues(service["command"])
        for name, service in compose["services"].items()
        if "celery -A config worker" in str(service.get("command", ""))
    }
    assert set(consumed) == set(WORKERS)
    assert all(queues for queues in consumed.values()), "each worker names its queues (-Q)"
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    everything = set().union(*consumed.values())
    # Every routed queue, and the default (a forgotten route's task still runs), has a worker.
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= everything
    # No worker waits on a queue nothing is routed to (a typo in -Q would leave a queue idle).
    assert everything <= routed | {settings.CELERY_TASK_DEFAULT_QUEUE}
    # The recomputes have a worker to themselves: their backlog holds nothing else behind it.
    assert consumed["worker-recompute"] == {"recompute"}
    assert all(
        "recompute" not in queues for name, queues in consumed.items() if name != "worker-recompute"
    )
    # Each has a distinct node name, which its health check pings.
    for name in WORKERS:
        node = re.search(r"-n (\w+)@%h", compose["services"][name]["command"]).group(1)
        assert f"-d {node}@$$HOSTNAME" in compose["services"][name]["healthcheck"]["test"][1]


@pytest.mark.parametrize(
    ("command", "queues"),
    [
        ("celery -A config worker -Q recompute", {"recompute"}),
        ("celery -A config worker -Qbulk,default -c 2", {"bulk", "default"}),
        ("celery -A config worker --queues=a,b", {"a", "b"}),
        ("celery -A config worker --queues a", {"a"}),
        ("celery -A config worker --concurrency=4", None),
    ],
)
def test_worker_queues_reads_each_spelling(command, queues):
    assert worker_queues(command) == queues


def test_healthz_is_plain_and_exempt_from_the_https_redirect(client, settings):
    assert client.get("/healthz").json() == {"ok": True}
    assert "^healthz$" in (settings.SECURE_REDIRECT_EXEMPT or [])


def test_the_dockerfile_serves_with_the_gunicorn_config():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert '"config.wsgi:application", "--config", "gunicorn.conf.py"' in cmd
    assert (ROOT / "gunicorn.conf.py").exists()


def test_the_access_log_has_paths_without_query_strings(tmp_path):
    """A real gunicorn with gunicorn.conf.py: an ID number in a query string (or a Referer)
    does not reach its access log."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "access.log"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(log),
        ],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "ALLOWED_HOSTS": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    id_number = "11010519491231002X"
    try:
        url = f"http://127.0.0.1:{port}/healthz?id_number={id_number}"
        request = urllib.request.Request(url, headers={"Referer": f"http://x/?q={id_number}"})
        for _attempt in range(100):
            try:
                assert urllib.request.urlopen(request, timeout=2).status == 200
                break
            except OSError:
                time.sleep(0.1)
        for _attempt in range(50):
            if log.exists() and "/healthz" in log.read_text():
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=20)
    text = log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in text
    assert id_number not in text and "id_number" not in text
