"""Settings, read from the environment (see README.md for every variable).

The embedded default is SQLite in the project directory and Celery tasks run in-process, so a
newcomer runs everything with no server. ``DATABASE_URL`` selects PostgreSQL; ``REDIS_URL``
selects a real Celery broker and a shared cache.
"""

from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import signing_keys
from config.env import (
    check_redis_url,
    env_bool,
    env_int,
    env_list,
    env_rate,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

# A development key is used only with DEBUG on; production must bring its own.
_DEV_SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production-5f2c9a"
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY is a development key; set a real one in production.")
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY is too short: use at least 50 random characters.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty; list the host names served, comma-separated."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "config.apps.AxesConfig",  # django-axes, named in Chinese
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "healthcode",
    "nucleic",
    "venues",
    "checkins",
    "proxy_scan",
    "records",
    "tracing",
    "audit",
    "retention",
    "appeals",
    "vaccination",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, which answers static files itself: those stay cacheable.
    "config.middleware.NoStoreMiddleware",
    # Before the session and every view: a request shed under a surge reads and writes
    # nothing (config/admission.py; the ADMISSION_* block below).
    "config.admission.AdmissionMiddleware",
    "config.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "healthcode.roles.navigation_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL") or "sqlite:///db.sqlite3", base_dir=BASE_DIR
    )
}
# A read replica for officers' heavy reads (config/db_router.py; docs/scaling.md). Its tests
# point it at the primary's test database, as a mirror.
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **parse_database_url(env_str("DATABASE_REPLICA_URL"), base_dir=BASE_DIR),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
# After an officer writes, their reads stay on the primary this long (longer than lag).
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 10, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "healthcode.User"
# django-axes first: it refuses a locked-out log-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the session's account row from the cache (healthcode.usercache).
    "healthcode.usercache.CachedModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "healthcode:code"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    # Django's rules with Chinese messages (healthcode/passwords.py says why).
    {"NAME": "healthcode.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "healthcode.passwords.MinimumLengthValidator"},
    {"NAME": "healthcode.passwords.CommonPasswordValidator"},
    {"NAME": "healthcode.passwords.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Redis: Celery broker and cache ---------------------------------------------------------
REDIS_URL = env_str("REDIS_URL") or ""
if REDIS_URL:
    check_redis_url(REDIS_URL)
    CACHES = {
        "default": {
            # Django's, reusing one client per pool (config/cache.py).
            "BACKEND": "config.cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
            # Throttles read the cache on every guarded request and fail open when Redis is
            # down (healthcode.throttling); a short timeout keeps an unreachable Redis from
            # hanging those requests instead of refusing fast.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: no broker; tasks run in-process, right after the enqueuing commit.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Recovering a lost task is the database's job, not the broker's: the transaction that changes
# a person's facts marks their code due (review_at = now) and only a recompute clears it, so
# the minute sweep below and every read catch whatever a dead worker or a dead broker dropped
# (healthcode.services.recompute_later). The broker settings make the fast path fail safe:
# - A task whose worker process dies mid-run goes back on the queue instead of being
#   acknowledged with the worker (acks_late + reject_on_worker_lost). Tasks are idempotent, so
#   running one twice is harmless; the cost is that a task that kills its worker every time
#   would come back forever, which none of ours can do (no native code, bounded memory).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# - A message fetched by a worker that vanished entirely (kill -9, a lost machine) waits in
#   Redis's unacked set for the visibility timeout before Redis redelivers it. The default is
#   one hour; 10 minutes is still far longer than any task runs (a chunk of 500 takes seconds;
#   retries back off at most 60 s), so a running task is never delivered twice, and a lost one
#   is back within minutes even if the sweep were stopped.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 600, minimum=60)
}
# - With the broker down, publishing gives up within about a second (the request that changed
#   the facts has committed and answers; its codes stay due for the sweep), instead of holding
#   a web worker on connection retries.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker keeps its database connection between tasks as a web process does between requests
# (CONN_MAX_AGE): Celery's Django fixup otherwise closes it before and after every task, and
# each 500-resident recompute paid for a new PostgreSQL backend and its cold caches. The
# fixup's own recycling is turned off (its count is never reached) and Django's rule runs
# around each task instead (config/celery.py): a connection past its age, or broken (a
# database restart), is closed and the next query opens a new one.
CELERY_DB_REUSE_MAX = 2**62
# A code marked due by a change is queued at once; the minute sweep leaves it alone for this
# long (it would only queue it twice), then takes it back if its task never ran — a worker
# killed mid-chunk, a broker that was down. Longer than a healthy queue's delay (seconds),
# short enough that a lost task is recovered within about two sweeps.
RECOMPUTE_LEASE_SECONDS = env_int("RECOMPUTE_LEASE_SECONDS", 60, minimum=10)
# Queues keep the door first. Nothing a door waits on goes through Celery: a check-in or a
# device's verify recomputes a due code inline (healthcode.selectors.ensure_current) and
# writes its grid workers' alerts in its own transaction (checkins.services._raise_alerts),
# and CSV exports and posters are streamed by their views. So no task needs a fast lane; the
# queues keep slow work from starving short work: a city's recompute backlog (minutes) must
# not hold an officer's trace (seconds) behind it. Every task of ours is routed here by name;
# tests/test_queues.py fails on one that is not, and on a queue no compose worker consumes.
# An alert or export task added later gets its own queue and worker group here and in
# docker-compose.yml (worker-bulk is the place for a small one).
CELERY_TASK_DEFAULT_QUEUE = "default"  # only unrouted tasks, which the test forbids
CELERY_TASK_ROUTES = {
    # A batch's, a risk list's or a policy's residents, 500 ids a task: the bulk of all work.
    "healthcode.tasks.recompute_codes": {"queue": "recompute"},
    # The minute sweep queues behind the recomputes already waiting, on purpose: on its own
    # fast queue it would run while they wait, find their codes still due past the lease and
    # queue them all a second time, growing the backlog it means to drain.
    "healthcode.tasks.recompute_due": {"queue": "recompute"},
    # An officer's trace: seconds of reading check-ins; its page polls until it is done.
    "tracing.tasks.trace_run": {"queue": "bulk"},
    # Hourly count of colours per district for the workbench; nobody waits on it.
    "tracing.tasks.colour_counts_snapshot": {"queue": "bulk"},
    # The nightly purge of personal data past its period (retention/): long, nobody waits.
    "retention.tasks.retention_purge": {"queue": "bulk"},
}
CELERY_BEAT_SCHEDULE = {
    # Statuses change by time alone (a window lapses, a flag ends, a policy takes effect).
    "recompute-due": {"task": "healthcode.tasks.recompute_due", "schedule": 60.0},
    # The officers' workbench plots residents by colour per district over days.
    "colour-counts": {"task": "tracing.tasks.colour_counts_snapshot", "schedule": 3600.0},
    # Personal data past its period goes at night, Beijing time (CELERY_TIMEZONE); bulk queue.
    "retention": {
        "task": "retention.tasks.retention_purge",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF answers an unauthenticated request with the first class's
    # WWW-Authenticate challenge, so clients get 401 (log in) rather than 403 (forbidden).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "healthcode.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "healthcode.api_schema.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "healthcode.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "健康码与场所码平台 API",
    "DESCRIPTION": "Health codes, venue codes, check-ins and nucleic-acid results.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Guessing limits -------------------------------------------------------------------------
# Log-in (django-axes, database handler so it holds with Redis down): an account is locked
# after LOGIN_FAILURE_LIMIT wrong passwords, an IP after LOGIN_IP_FAILURE_LIMIT (any accounts),
# each for LOGIN_COOLOFF_MINUTES after its last counted failure. 10 leaves room for a resident
# fumbling a password on a phone keypad; the IP limit is higher because mobile carriers put
# many people behind one address (CGNAT), and one person's typos must not lock the others.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 50, minimum=1)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AXES_HANDLER = "healthcode.lockout.LoginLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one reaching its limit locks
AXES_FAILURE_LIMIT = "healthcode.lockout.failure_limit"  # read LOGIN_* at each attempt
AXES_COOLOFF_TIME = "healthcode.lockout.cool_off"
AXES_RESET_ON_SUCCESS = True  # a successful log-in clears that account's count (not the IP's)
# Attempts during a lock-out are refused without being counted, so the wait shown is the
# real one and cannot be stretched by the attacker's own retries.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "healthcode.lockout.login_account"
AXES_CLIENT_IP_CALLABLE = "healthcode.throttling.client_ip"
AXES_LOCKOUT_CALLABLE = "healthcode.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "phone", "ip_address"]  # masked in axes' log lines
AXES_DISABLE_ACCESS_LOG = True  # no row per successful log-in: minimal collection
# Behind N reverse proxies the client is the N-th address from the right of X-Forwarded-For;
# with 0 it is REMOTE_ADDR. Per-IP limits need this right: wrong, every client shares the
# proxy's address (and one lock-out locks everyone), or a client can forge its address.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0, minimum=0
)
# Registration (page and API share one budget per IP): enough for a family or a community
# office signing people up on one connection, far too few to mass-create accounts or to probe
# which phone and ID numbers are already registered.
REGISTRATION_PER_IP_PER_HOUR = env_int("REGISTRATION_PER_IP_PER_HOUR", 30, minimum=1)
# Lab and device keys: after this many unknown keys from one IP within the window, every key
# attempt from that IP gets 429 until the window passes. Revoked keys do not count, so one
# forgotten gate retrying its old key does not shut out its neighbours behind the same NAT.
API_KEY_FAILURE_LIMIT = env_int("API_KEY_FAILURE_LIMIT", 20, minimum=1)
API_KEY_FAILURE_WINDOW_MINUTES = env_int("API_KEY_FAILURE_WINDOW_MINUTES", 15, minimum=1)

# --- Session and token lifetimes ----------------------------------------------------------
# An API token (POST /api/v1/auth/token) stops working this many days after it was issued;
# a password change revokes it at once (healthcode.authentication).
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30, minimum=1)
# Staff, inspectors, grid workers and officers see other people's status: their browser
# session ends this many hours after log-in however active it is (a working day), so a
# phone left at a checkpoint does not stay signed in. Residents keep Django's default.
STAFF_SESSION_HOURS = env_int("STAFF_SESSION_HOURS", 10, minimum=1)
if STAFF_SESSION_HOURS * 3600 > 1209600:  # Django's SESSION_COOKIE_AGE, two weeks
    raise ImproperlyConfigured(
        "STAFF_SESSION_HOURS must not exceed 336: staff sessions may not outlive residents'."
    )

# --- The door under load (issue 13) --------------------------------------------------------
# Sessions are read from the cache, kept in the database (healthcode/sessions.py): a signed-in
# request costs no session query. A log-out deletes the cached copy first; a cached copy lives
# at most SESSION_CACHE_SECONDS. With Redis down, sessions are read from the database.
SESSION_ENGINE = "healthcode.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 600, minimum=1)
# Venue and scan-device rows the door reads on every scan are cached this long and dropped the
# moment they change (venues.selectors, checkins.selectors; post_save/post_delete and commit).
DOOR_ROW_CACHE_SECONDS = env_int("DOOR_ROW_CACHE_SECONDS", 300, minimum=1)

# --- Health codes ---------------------------------------------------------------------------
# The QR on a phone is a signed token valid for this many seconds; the page fetches a fresh
# one every HEALTHCODE_TOKEN_REFRESH_SECONDS, so a screenshot or forwarded picture goes stale.
HEALTHCODE_SIGNING_KEY = env_str("HEALTHCODE_SIGNING_KEY") or SECRET_KEY
HEALTHCODE_TOKEN_TTL_SECONDS = env_int("HEALTHCODE_TOKEN_TTL_SECONDS", 300, minimum=30)
HEALTHCODE_TOKEN_REFRESH_SECONDS = env_int("HEALTHCODE_TOKEN_REFRESH_SECONDS", 60, minimum=5)
if HEALTHCODE_TOKEN_REFRESH_SECONDS >= HEALTHCODE_TOKEN_TTL_SECONDS:
    raise ImproperlyConfigured(
        "HEALTHCODE_TOKEN_REFRESH_SECONDS must be shorter than HEALTHCODE_TOKEN_TTL_SECONDS."
    )
# The status assertion inside a phone token (colour, test, masked name; docs/offline.md) is
# signed with this Ed25519 private key (PEM, or the 32 raw bytes in base64), so a door can
# check it offline with the public keys it fetched (GET /api/v1/keys). Required in production;
# with DEBUG on, a key derived from SECRET_KEY. Rotation: README.md, "Offline verification".
_assertion_key = env_str("HEALTHCODE_ASSERTION_KEY") or ""
if _assertion_key:
    HEALTHCODE_ASSERTION_KEY = signing_keys.private_key("HEALTHCODE_ASSERTION_KEY", _assertion_key)
elif DEBUG:
    HEALTHCODE_ASSERTION_KEY = signing_keys.development_key(SECRET_KEY)
else:
    raise ImproperlyConfigured(
        "HEALTHCODE_ASSERTION_KEY is not set. Set it to an Ed25519 private key "
        "(python manage.py assertion_key new), or set DEBUG=1 for local development."
    )
# Other public keys doors still (the previous key) or already (the next one) accept,
# comma-separated, each PEM or 32 raw bytes in base64. kid → key, the signing key's first.
HEALTHCODE_ASSERTION_PUBLIC_KEYS = signing_keys.accepted_keys(
    HEALTHCODE_ASSERTION_KEY, env_list("HEALTHCODE_ASSERTION_ACCEPTED_KEYS", [])
)
# How long a door's browser (and any cache between) keeps the key list before asking again.
HEALTHCODE_ASSERTION_KEYS_MAX_AGE = env_int("HEALTHCODE_ASSERTION_KEYS_MAX_AGE", 3600, minimum=0)
# A confirmation a door made offline and sends later is recorded at the time it was made, if
# that is no older than this many hours; an older one is refused (and dropped by the door).
OFFLINE_CONFIRM_MAX_HOURS = env_int("OFFLINE_CONFIRM_MAX_HOURS", 24, minimum=1)
# A printed paper code (for people without a phone) is valid this long, then reprinted:
# Shandong 14 days (336 h), Suzhou 24 h. Long, because its holder cannot refresh it; its
# colour is never printed, every scan shows the live status.
PAPER_CODE_TTL_HOURS = env_int("PAPER_CODE_TTL_HOURS", 336, minimum=1)

# --- Check-ins ------------------------------------------------------------------------------
# A second scan of the same venue by the same person within this many seconds is the same visit.
CHECKIN_REPEAT_SECONDS = env_int("CHECKIN_REPEAT_SECONDS", 600, minimum=0)
# 手工登记 (name and ID typed at the door) answers with a person's colour, so a leaked list of
# names and ID numbers could be run through it. Typing one person takes half a minute or more:
# one inspector cannot honestly exceed about 60 an hour, and a venue's doors together about
# 200 (checkins.throttles). Beyond that the API answers 429 with Retry-After.
MANUAL_CHECKIN_RATE_PER_INSPECTOR = env_rate("MANUAL_CHECKIN_RATE_PER_INSPECTOR", "60/hour")
MANUAL_CHECKIN_RATE_PER_VENUE = env_rate("MANUAL_CHECKIN_RATE_PER_VENUE", "200/hour")
# A gate's ID-card reader is the same door by machine: a card read takes seconds, and even a
# station's busiest gate reads far fewer than 600 cards an hour (most people show a code).
DEVICE_ID_CARD_RATE = env_rate("DEVICE_ID_CARD_RATE", "600/hour")
# 老幼助查 (/lookup/) answers with the colour of whoever a name and ID number name, so a leaked
# list could be run through it. A companion looks up a few people a day and venue staff helping
# elders at a door a few an hour; 20 per account per hour is ample for both. Per IP it is
# higher (a venue's staff share one connection, carriers put many people behind one address)
# and stops one machine from cycling through accounts (proxy_scan.throttles).
ELDER_LOOKUP_PER_USER_PER_HOUR = env_int("ELDER_LOOKUP_PER_USER_PER_HOUR", 20, minimum=1)
ELDER_LOOKUP_PER_IP_PER_HOUR = env_int("ELDER_LOOKUP_PER_IP_PER_HOUR", 60, minimum=1)
# 帮扫 (/v/<code>/help/) checks someone else in by a name and a number, so it could be used to
# run a list of identities through a door. A family member helps a handful of people, a
# volunteer at a busy door a few dozen an hour: 30 attempts per helper per hour (found or not).
# One person is checked in by others at most a few times an hour; 10 stops one identity being
# moved around many venues by many accounts (proxy_scan.throttles). Both fail open.
PROXY_SCAN_PER_HELPER_PER_HOUR = env_int("PROXY_SCAN_PER_HELPER_PER_HOUR", 30, minimum=1)
PROXY_SCAN_PER_PERSON_PER_HOUR = env_int("PROXY_SCAN_PER_PERSON_PER_HOUR", 10, minimum=1)

# Tracing (时空关联): the default overlap that makes a close contact, and how many people a
# trace may turn red or yellow before a second health officer must approve it.
TRACE_THRESHOLD_MINUTES = env_int("TRACE_THRESHOLD_MINUTES", 15, minimum=1)
TRACE_APPROVAL_THRESHOLD = env_int("TRACE_APPROVAL_THRESHOLD", 50, minimum=0)
# A close contact's red lasts this many days from the apply (medical observation), unless
# withdrawn earlier or renewed.
TRACE_CLOSE_CONTACT_DAYS = env_int("TRACE_CLOSE_CONTACT_DAYS", 7, minimum=1)

# The audit trail (audit/) is kept longer than what it records; its table refuses to delete
# rows younger than 90 days whatever this says (audit.models.AUDIT_DELETE_FLOOR_DAYS).
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365, minimum=90)

# --- Retention (retention/registry.py; the README's table lists every class) ---------------
# Days each kind of personal data is kept past its time (a stay's end, a result's report, a
# flag's end); the nightly run never deletes what still decides a colour or a door. Check-ins,
# stays and itineraries keep at least the 14 days an itinerary and a trace look back over.
RETENTION_DAYS_CHECKINS = env_int("RETENTION_DAYS_CHECKINS", 28, minimum=14)
RETENTION_DAYS_PROXY_CHECKINS = env_int("RETENTION_DAYS_PROXY_CHECKINS", 28, minimum=14)
RETENTION_DAYS_ITINERARY = env_int("RETENTION_DAYS_ITINERARY", 28, minimum=14)
RETENTION_DAYS_LAB_RESULTS = env_int("RETENTION_DAYS_LAB_RESULTS", 28, minimum=1)
RETENTION_DAYS_LAB_BATCHES = env_int("RETENTION_DAYS_LAB_BATCHES", 28, minimum=1)
RETENTION_DAYS_VACCINATION_BATCHES = env_int("RETENTION_DAYS_VACCINATION_BATCHES", 28, minimum=1)
RETENTION_DAYS_RISK_FLAGS = env_int("RETENTION_DAYS_RISK_FLAGS", 28, minimum=1)
RETENTION_DAYS_LOGIN_FAILURES = env_int("RETENTION_DAYS_LOGIN_FAILURES", 28, minimum=1)
# A decided appeal (申诉) and its photo, from the decision; the fact it names is kept with it.
RETENTION_DAYS_APPEALS = env_int("RETENTION_DAYS_APPEALS", 365, minimum=28)
# Appeals (申诉): a resident may attach one photo, an image (JPEG, PNG or WebP, checked by
# Pillow) of at most this many bytes. Photos are kept under PRIVATE_UPLOAD_ROOT, outside the
# web root and STATIC/MEDIA, and served only by a view that checks who asks (appeals.views).
APPEAL_PHOTO_MAX_BYTES = env_int("APPEAL_PHOTO_MAX_BYTES", 5 * 1024 * 1024, minimum=100 * 1024)
PRIVATE_UPLOAD_ROOT = Path(env_str("PRIVATE_UPLOAD_ROOT") or BASE_DIR / "private")
if any(
    PRIVATE_UPLOAD_ROOT.resolve().is_relative_to(Path(public).resolve())
    for public in (STATIC_ROOT, *STATICFILES_DIRS)
):
    raise ImproperlyConfigured("PRIVATE_UPLOAD_ROOT must not be under the static files.")

# --- Admission control under a surge (config/admission.py; README "Under a surge") ---------
# Per web process: requests running at once. The rest wait in short lines here, door first,
# where they can be counted and refused; gunicorn's acceptor (config/gunicorn_worker.py)
# refuses, before any thread reads it, a request that would find neither a slot nor a line.
ADMISSION_ENABLED = env_bool("ADMISSION_ENABLED", True)
# The acceptor's early refusal; 0 leaves every refusal to the middleware (slower under load).
ADMISSION_EARLY_REFUSAL = env_bool("ADMISSION_EARLY_REFUSAL", True)
ADMISSION_CAPACITY = env_int("ADMISSION_CAPACITY", 4, minimum=1)
# Of those, at most this many ordinary requests, lab and vaccination uploads (a batch holds a
# slot for seconds) and extras (exports, posters, plots, history, admin); a code or door
# request may take every slot.
ADMISSION_NORMAL_LIMIT = env_int("ADMISSION_NORMAL_LIMIT", 3, minimum=1)
ADMISSION_UPLOAD_LIMIT = env_int("ADMISSION_UPLOAD_LIMIT", 1, minimum=1)
ADMISSION_EXTRA_LIMIT = env_int("ADMISSION_EXTRA_LIMIT", 1, minimum=1)
# Requests finding no free slot wait in line, at most this many per class and process and this
# long (counted from when gunicorn queued them). A full line refuses at once, and so does a
# request unlikely to get a slot in time (predicted from code and door slot times), which keeps
# refusals fast. An extra waits only while nothing but extras runs or waits in its process.
# Showing a code has the longer line: a refused code refresh is a code that does not show, and
# it costs less than half a door scan. At 3x the sustainable rate (docs/benchmarks.md, surge) 6 + 2
# refused 0.8 % of code displays where 4 + 4 refused 2 % (goodput 1.95x against 2.08x the
# maximum; the same 12 threads).
ADMISSION_CODE_QUEUE = env_int("ADMISSION_CODE_QUEUE", 6, minimum=0)
ADMISSION_DOOR_QUEUE = env_int("ADMISSION_DOOR_QUEUE", 2, minimum=0)
ADMISSION_NORMAL_QUEUE = env_int("ADMISSION_NORMAL_QUEUE", 2, minimum=0)
ADMISSION_UPLOAD_QUEUE = env_int("ADMISSION_UPLOAD_QUEUE", 2, minimum=0)
ADMISSION_EXTRA_QUEUE = env_int("ADMISSION_EXTRA_QUEUE", 2, minimum=0)
ADMISSION_DOOR_WAIT_MS = env_int("ADMISSION_DOOR_WAIT_MS", 1000, minimum=0)
ADMISSION_NORMAL_WAIT_MS = env_int("ADMISSION_NORMAL_WAIT_MS", 300, minimum=0)
ADMISSION_UPLOAD_WAIT_MS = env_int("ADMISSION_UPLOAD_WAIT_MS", 2000, minimum=0)
ADMISSION_EXTRA_WAIT_MS = env_int("ADMISSION_EXTRA_WAIT_MS", 5000, minimum=0)
# Retry-After (seconds) of a refusal: a door retries soon, an extra after the surge.
ADMISSION_RETRY_AFTER_SECONDS = env_int("ADMISSION_RETRY_AFTER_SECONDS", 2, minimum=1)
ADMISSION_EXTRA_RETRY_AFTER_SECONDS = env_int("ADMISSION_EXTRA_RETRY_AFTER_SECONDS", 30, minimum=1)

# --- Request size ---------------------------------------------------------------------------
# The largest request body accepted, in bytes (config.middleware.BodySizeLimitMiddleware
# answers 413 above it, before anything reads it). A lab's full batch of 10,000 records is
# about 2.7 MB as compact JSON with escaped Chinese names and 3.2 MB pretty-printed, over
# Django's 2.5 MB default; 10 MiB leaves room for that and for risk flags with reasons.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=4 * 1024 * 1024
)

# --- Security -------------------------------------------------------------------------------
# A CSRF failure answers JSON under /api/ and a Chinese page elsewhere.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files
# (no inline script or handler), nothing may frame a page (a health code in a frame is a
# phishing kit). img-src allows data: for the images Swagger UI's stylesheet inlines.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # health checks come over plain HTTP from inside
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging: never personal data (see healthcode.masking) ----------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
