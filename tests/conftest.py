import os
import shutil
import uuid

import pytest

from tests.factories import make_resident


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Production serves hashed files from a collectstatic manifest; tests read the sources.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _tasks_in_process_unless_a_worker_is_wanted(request):
    """Tests run Celery tasks in-process (eager), as the embedded default does, even when
    REDIS_URL is set: no test outside ``celery_worker`` sends a task through Redis, so what
    they assert does not depend on a queue or a worker. Tests marked ``celery_worker`` publish
    to the real broker (Redis) and a real worker runs them (``tests/test_celery_worker.py``).
    Tasks enqueued after commit still wait for a commit: in a plain ``django_db`` test (one
    transaction, never committed) they run only under
    ``django_capture_on_commit_callbacks(execute=True)``."""
    from config.celery import app

    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Throttles count per IP in the cache, and every test client is 127.0.0.1: each test gets
    its own key prefix, so no count leaks from one test into the next. (Not a flush: on Redis
    the cache shares its database with the Celery broker a worker test may be using.)"""
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _private_uploads_in_a_temporary_directory(settings, tmp_path):
    """Appeal photos go to PRIVATE_UPLOAD_ROOT: each test gets its own, never the project's."""
    settings.PRIVATE_UPLOAD_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def resident(db):
    return make_resident()


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(
        phone="13700000000", password="Staff-pass-2026!", is_staff=True
    )


# --- Browser tests ---------------------------------------------------------------------------
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but no Chromium was found.")
        pytest.skip(
            "No Chromium found: install Debian's chromium and fonts-noto-cjk "
            "(sudo apt-get install chromium fonts-noto-cjk) or set CHROMIUM_PATH. "
            ".ci/run installs them, so there these tests always run."
        )
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # inside one unless told that this test thread is synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def phone_page(browser):
    """A 375×812 phone-sized page (iPhone X class), Chinese locale, Shanghai time."""
    context = browser.new_context(
        viewport={"width": 375, "height": 812},
        device_scale_factor=2,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts_dir():
    path = os.path.join(os.path.dirname(__file__), "..", "artifacts", "screenshots")
    os.makedirs(path, exist_ok=True)
    return os.path.abspath(path)


# --- A real Celery worker --------------------------------------------------------------------
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def real_broker_env(django_db_setup, django_db_blocker):
    """The environment for Celery processes (worker, beat) that share the test database and
    the test run's Redis. Needs REDIS_URL and PostgreSQL (an in-memory SQLite test database
    cannot be shared with another process); skips without them unless REQUIRE_CELERY_WORKER.
    """
    from django.conf import settings as django_settings
    from django.db import connection

    reason = None
    if not django_settings.REDIS_URL:
        reason = "needs REDIS_URL (a real broker)"
    elif connection.vendor != "postgresql":
        reason = "needs DATABASE_URL on PostgreSQL (the worker must share the test database)"
    if reason:
        if os.environ.get("REQUIRE_CELERY_WORKER"):
            pytest.fail(f"REQUIRE_CELERY_WORKER is set but the worker {reason}.")
        pytest.skip(f"Celery worker test {reason}.")
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
    }


def celery_queues() -> list[str]:
    """Every queue a task of ours can land on: the routed ones and the default."""
    from django.conf import settings

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    return sorted(routed | {settings.CELERY_TASK_DEFAULT_QUEUE})


def purge_queues() -> None:
    """Drop every waiting message of every queue (``control.purge`` knows only the queues
    this process has declared so far)."""
    from config.celery import app

    with app.connection_for_write() as connection:
        for queue in celery_queues():
            connection.default_channel.queue_purge(queue)


def start_celery_worker(
    env: dict,
    name: str,
    *,
    pool: str = "threads",
    concurrency: int = 4,
    queues: list[str] | None = None,
):
    """Start ``celery -A config worker`` on ``queues`` (all of them unless given) and wait
    until it answers a ping."""
    import subprocess
    import sys
    import time

    from config.celery import app

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--queues={','.join(queues or celery_queues())}",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "-n",
            name,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(destination=[name], timeout=1.0):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail("the Celery worker did not start")
    return worker


def stop_process(process) -> None:
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def celery_worker(real_broker_env):
    """A real ``celery -A config worker`` process on Redis, consuming every queue, reading the
    test database, for the whole session. Tests that use it must be
    ``django_db(transaction=True)`` so the worker sees committed rows."""
    purge_queues()
    name = f"pytest-{os.getpid()}@localhost"
    worker = start_celery_worker(real_broker_env, name)
    yield name
    stop_process(worker)


@pytest.fixture
def only_our_workers(real_broker_env):
    """Pause any other worker of this run (the session's ``celery_worker``) on every queue, so
    that the workers a test starts (and kills) are the only ones consuming; empty the queues
    before and after."""
    import redis
    from django.conf import settings

    from config.celery import app

    others = [next(iter(reply)) for reply in app.control.ping(timeout=1.0)]
    for queue in celery_queues() if others else ():
        app.control.cancel_consumer(queue, destination=others, reply=True)
    purge_queues()
    yield real_broker_env
    purge_queues()
    # The message a killed worker held stays in Redis's unacked set until the visibility
    # timeout; it must not be redelivered to a later run's worker.
    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index")
    for queue in celery_queues() if others else ():
        app.control.add_consumer(queue, destination=others, reply=True)
