"""Django settings for Nefos, read from the environment (django-environ).

The embedded default needs no external service: everything lives under PORTAL_DATA_DIR
(SQLite database, generated secret key, Celery's filesystem broker, later the object store).
DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and RabbitMQ for production.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DATA_DIR = Path(env.str("PORTAL_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Return PORTAL_SECRET_KEY, or a key generated once and kept in the data dir."""
    configured = env.str("PORTAL_SECRET_KEY", default="")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(50))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("PORTAL_DEBUG", default=False)
ALLOWED_HOSTS = env.list("PORTAL_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("PORTAL_CSRF_TRUSTED_ORIGINS", default=[])
# Base URL written into the service catalog; empty = derived from each request's host.
PORTAL_PUBLIC_URL = env.str("PORTAL_PUBLIC_URL", default="").rstrip("/")
PORTAL_REGION = env.str("PORTAL_REGION", default="RegionOne")
# Where browsers reach the console proxy (`manage.py console_proxy`): a ws(s):// URL, or empty =
# the page's host name on PORTAL_CONSOLE_PORT (docs/compute.md, "Consoles").
PORTAL_CONSOLE_URL = env.str("PORTAL_CONSOLE_URL", default="").rstrip("/")
PORTAL_CONSOLE_PORT = env.int("PORTAL_CONSOLE_PORT", default=6080)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tables2",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "portal",
    "identity",
    "compute",
    "compute.image",
    "compute.network",
    "compute.volume",
    "objectstore",
    "backend_ganeti",
]

MIDDLEWARE = [
    "portal.observability.middleware.RequestIdMiddleware",
    "portal.observability.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
# Clients such as swiftclient and openstacksdk use paths without trailing slashes.
APPEND_SLASH = False

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
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web, worker and beat processes share one file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("PORTAL_DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["identity.auth_backend.DomainUserBackend", "rules.permissions.ObjectPermissionBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Password hashing cost; lowered only by an explicit environment setting (e.g. in test runs).
if env.bool("PORTAL_FAST_PASSWORD_HASHING", default=False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 6}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Silence "USERNAME_FIELD must be unique": names are unique per domain (a DB constraint).
SILENCED_SYSTEM_CHECKS = ["auth.E003", "auth.W004"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Front-end assets come from the npm registry at setup time (`make assets`), never a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "node_modules")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("PORTAL_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
BEHIND_PROXY = env.bool("PORTAL_BEHIND_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
USE_X_FORWARDED_HOST = BEHIND_PROXY

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["portal.api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "portal.api.errors.portal_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Nefos portal API",
    "DESCRIPTION": "Portal-specific REST API: projects, memberships, quotas, applications, audit.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/",
    # The OpenStack-compatible APIs follow OpenStack's own references; this schema is /api/ only.
    "PREPROCESSING_HOOKS": ["portal.api.schema.only_portal_api"],
    # Several models have a `state`/`status` field; name their enums after the model.
    "ENUM_NAME_OVERRIDES": {
        "ClusterStateEnum": "backend_ganeti.models.Cluster.State",
        "InstanceStatusEnum": "backend_ganeti.models.Instance.Status",
        "JobStatusEnum": "backend_ganeti.models.Job.Status",
    },
}

# Identity
PORTAL_TOKEN_TTL = env.int("PORTAL_TOKEN_TTL", default=3600)
# How often (s) each process re-reads token revocations from the database (multi-host setups);
# on one host a stamp file in the data dir makes revocations visible at once.
PORTAL_REVOCATION_REFRESH = env.float("PORTAL_REVOCATION_REFRESH", default=2.0)
PORTAL_SIGNUP_AUTO_ACTIVATE = env.bool("PORTAL_SIGNUP_AUTO_ACTIVATE", default=False)
# Commissions pending longer than this (s) are handed to the resolver.
PORTAL_COMMISSION_TIMEOUT = env.int("PORTAL_COMMISSION_TIMEOUT", default=600)

# Celery: kombu's filesystem transport under the data dir is the embedded broker.
CELERY_BROKER_DIR = DATA_DIR / "broker"
for _sub in ("queue", "processed", "control"):
    (CELERY_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
        # How often an idle worker looks for new messages without being woken (portal/broker.py
        # wakes it on every publish; the poll also notices freed prefetch slots).
        "polling_interval": env.float("PORTAL_BROKER_POLL_SECONDS", default=0.1),
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
# kombu's filesystem transport, publishing atomically and waking consumers at once (portal/broker.py).
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=f"file://{DATA_DIR / 'results'}")
(DATA_DIR / "results").mkdir(exist_ok=True)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Keep our JSON logging (with request ids) in worker and beat processes too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Object store reads hash every block ("always") or only blocks changed since verified (docs/objectstore.md).
OBJECTSTORE_VERIFY_READS = env.str("OBJECTSTORE_VERIFY_READS", default="changed")
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "resolve-pending-commissions": {
        "task": "identity.tasks.resolve_pending_commissions",
        "schedule": 60.0,
    },
    "identity-prune-revocations": {"task": "identity.tasks.prune_revocations", "schedule": 3600.0},
    "objectstore-purge-expired": {"task": "objectstore.tasks.purge_expired_objects", "schedule": 300.0},
    "objectstore-collect-garbage": {"task": "objectstore.tasks.collect_garbage", "schedule": 3600.0},
    "objectstore-scrub": {"task": "objectstore.tasks.scrub_blocks", "schedule": 3600.0, "kwargs": {"limit": 1000}},
    # Re-enqueue jobs whose watcher died (a killed worker loses nothing), and compare clusters with the DB.
    "backend-resume-jobs": {"task": "backend_ganeti.tasks.resume_jobs", "schedule": 30.0},
    "backend-refresh-clusters": {"task": "backend_ganeti.tasks.refresh_clusters", "schedule": 60.0},
    "backend-reconcile-clusters": {"task": "backend_ganeti.tasks.reconcile_clusters", "schedule": 300.0},
}

# Observability
PROMETHEUS_MULTIPROC_DIR = DATA_DIR / "metrics"
LOG_LEVEL = env.str("PORTAL_LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("PORTAL_LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.observability.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "text") else "json",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
