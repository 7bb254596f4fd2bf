"""Settings for the robot dashboard: one file, driven by environment variables.

Every variable is listed in `.env.example` and the README. Malformed values stop the
process with ImproperlyConfigured (see dashboard/env.py).
"""

from __future__ import annotations

import base64
import secrets
import time
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from dashboard import env
from devices.crypto import parse_key_ring

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.string("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.boolean("DEBUG", False)

# --- Secrets -----------------------------------------------------------------------
# Outside debug both must be given; in debug (the embedded default of `make run`) each is
# generated once into DATA_DIR with mode 0600 and reused.
SECRET_KEY = env.raw("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value (DEBUG is off)."
        )
    SECRET_KEY = env.generated_secret(DATA_DIR / "secret_key")


def _new_credential_key() -> str:
    return f"k{int(time.time())}:" + base64.b64encode(secrets.token_bytes(32)).decode()


CREDENTIAL_KEYS = env.raw("CREDENTIAL_KEYS")
if not CREDENTIAL_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "CREDENTIAL_KEYS is not set. It encrypts linked cloud credentials and is separate "
            "from SECRET_KEY; see the README (Configuration) for how to create one."
        )
    CREDENTIAL_KEYS = env.generated_secret(DATA_DIR / "credential_keys", _new_credential_key)
# Check the ring now: a malformed key must stop web, worker and beat at start, not surface
# later as "cannot decrypt" on the first sync.
parse_key_ring(CREDENTIAL_KEYS)

ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.csv("CSRF_TRUSTED_ORIGINS")
SITE_URL = env.string("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Applications ------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "axes",
    "django_htmx",
    "django_celery_beat",
    "accounts",
    "devices",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.middleware.CurrentHouseholdMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

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
                "accounts.context_processors.household",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------
DATABASE_URL = env.raw("DATABASE_URL")
if DATABASE_URL:
    try:
        _db = environ.Env.db_url_config(DATABASE_URL)
    except Exception as exc:  # django-environ raises several types on bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {type(exc).__name__}") from None
    if _db.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL (or leave it unset).")
    _db["CONN_MAX_AGE"] = env.integer("DB_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # WAL + immediate transactions let web, worker and beat share one file.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file (not :memory:) so a real worker process can share the test database.
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker ----------------------------------------------------------------
REDIS_URL = env.raw("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must be a redis://, rediss:// or unix:// URL.")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            # The report pages keep rendered parts here (dashboard/report_cache.py), a
            # history page per filter and cursor: room for a few thousand (~20 KB each).
            "OPTIONS": {"MAX_ENTRIES": 3000},
        }
    }

BROKER_DIR = DATA_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Must exceed the longest task plus its longest retry countdown (late ack).
        "visibility_timeout": env.integer("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
        "queue_order_strategy": "priority",  # see CELERY_TASK_QUEUES
    }
else:
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, reading queue_order_strategy (dashboard/broker.py).
    CELERY_BROKER_TRANSPORT = "dashboard.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
        "queue_order_strategy": "priority",  # see CELERY_TASK_QUEUES
    }
# Two queues: the default one (syncs, commands, beat tasks) and "details" (run details
# and maps, devices/sync_details.py). Workers consume both in this order (the Procfile
# names them) and, with the "priority" queue order, take a waiting task of the first
# before any of the second; kombu's default round robin would alternate between them.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("details", Exchange("details"), routing_key="details"),
]
CELERY_TASK_ROUTES = {"devices.sync_tasks.fetch_run_details": {"queue": "details"}}
# Workers keep database connections across tasks (closed when older than CONN_MAX_AGE or
# broken, around every task: dashboard/celery.py), instead of Celery closing them all.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat entries carry `expires` just under their interval, so a backlog never piles up.
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-syncs": {
        "task": "devices.sync_tasks.dispatch_due_syncs",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "expire-lost-commands": {
        "task": "devices.command_tasks.expire_lost_commands",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "refresh-catalogues": {
        "task": "devices.sync_tasks.refresh_catalogues",
        "schedule": 6 * 3600.0,
        "options": {"expires": 3600},
    },
    "prune-sync-records": {
        "task": "devices.sync_tasks.prune_sync_records",
        "schedule": 24 * 3600.0,
        "options": {"expires": 3600},
    },
}
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Auth, sessions, throttling -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = env.integer("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=300)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SUDO_MODE_SECONDS = 15 * 60

# Number of reverse proxies in front of the app whose X-Forwarded-For we trust.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env.integer("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client address trusting exactly TRUSTED_PROXY_COUNT hops of X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "accounts.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

# --- Email -------------------------------------------------------------------------
EMAIL_URL = env.raw("EMAIL_URL")
if EMAIL_URL:
    try:
        vars().update(environ.Env.email_url_config(EMAIL_URL))
    except Exception:
        raise ImproperlyConfigured(
            "EMAIL_URL is malformed (e.g. smtp+tls://user:pass@host:587)"
        ) from None
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Robot dashboard <dashboard@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security headers ----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.boolean("BEHIND_HTTPS_PROXY", TRUSTED_PROXY_COUNT > 0):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Static files and i18n ------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.string(
            "STATICFILES_BACKEND",
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(DATA_DIR / "media")))
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Vendor clouds (cloud-apis.md section 2) -------------------------------------------
QIHOO360_API_URL = env.base_url("QIHOO360_API_URL", "https://q.smart.360.cn")
QIHOO360_CONFIG_URL = env.base_url("QIHOO360_CONFIG_URL", "https://smart.360.cn")
MAMMOTION_USER_URL = env.base_url("MAMMOTION_USER_URL", "https://domestic.mammotion.com")
MAMMOTION_AUTH_URL = env.base_url("MAMMOTION_AUTH_URL", "https://id.mammotion.com")
MAMMOTION_OPEN_API_URL = env.base_url("MAMMOTION_OPEN_API_URL", "https://api-open.mammotion.com")
QIHOO360_PUSH_ADDR = env.host_port("QIHOO360_PUSH_ADDR", "47.254.151.104:443")

# --- Background sync -------------------------------------------------------------------
# Email owners once when an account needs re-linking.
SYNC_AUTH_EMAIL = env.boolean("SYNC_AUTH_EMAIL", True)
# Run details and maps fetched per details pass at most (the rest follow in later passes).
SYNC_MAX_DETAILS_PER_SYNC = env.integer("SYNC_MAX_DETAILS_PER_SYNC", 200, minimum=0)
# A sync stops itself cleanly after this many seconds (below the task's soft limit, 600).
SYNC_DEADLINE_SECONDS = env.integer("SYNC_DEADLINE_SECONDS", 540, minimum=30)
SYNC_LEASE_SECONDS = 180

# --- Logging -----------------------------------------------------------------------
LOG_LEVEL = env.string("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
