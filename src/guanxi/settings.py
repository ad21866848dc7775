"""One settings module for every environment, driven by environment variables.

Production: DEBUG=0, SECRET_KEY and ALLOWED_HOSTS set, DATABASE_URL for PostgreSQL.
Development and the demo: nothing set, SQLite under var/.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("GUANXI_HOME", BASE_DIR.parent.parent)).resolve()
VAR_DIR = Path(os.environ.get("GUANXI_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)


def load_secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under var/.

    No key ever lives in the repository; a local install still gets a strong, stable one.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        from django.utils.crypto import get_random_string

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_string(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = load_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "ninja",
    "guanxi.core",
    "guanxi.notifications",
    "guanxi.customers",
    "guanxi.interactions",
    "guanxi.reception",
    "guanxi.sales",
    "guanxi.service",
    "guanxi.loyalty",
    "guanxi.insights",
    "guanxi.marketing",
    "guanxi.reports",
    "guanxi.transfer",
    "guanxi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "guanxi.core.middleware.SecurityHeadersMiddleware",
    # Pages compressed (the sales-control board: ~950 KiB of HTML for 5,000 units, ~60 KiB
    # gzipped); static files are already served pre-compressed by WhiteNoise. BREACH: the
    # CSRF token is masked per response, so compression does not leak it.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "guanxi.core.middleware.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "guanxi.core.middleware.DomainErrorMiddleware",
    "guanxi.core.middleware.DatabaseBusyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"

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
                "django.template.context_processors.i18n",
                "guanxi.core.context_processors.navigation",
                "guanxi.notifications.inbox.bell_context",
            ],
        },
    }
]

# SQLite is the embedded default: WAL for concurrent readers, IMMEDIATE transactions so a
# writer takes the lock up front instead of failing half way with "database is locked".
SQLITE_PATH = VAR_DIR / "guanxi.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60
    )
}
# How long a save waits for SQLite's write lock before the user is told the database is busy
# (a 503 with code "busy", never a 500): guanxi.core.errors.database_busy.
SQLITE_BUSY_SECONDS = int(os.environ.get("GUANXI_SQLITE_BUSY_SECONDS", "20"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Each gunicorn thread keeps its own connection (and its PRAGMAs and page cache) for a
    # minute instead of reopening the file on every request.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_SECONDS,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}; PRAGMA cache_size=-64000; "
            "PRAGMA mmap_size=268435456;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# A lock ends on time even if guessing goes on; the real user is not kept out forever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client address: REMOTE_ADDR, or X-Forwarded-For only when sent by a trusted proxy
# (comma-separated addresses of the TLS proxy in front, e.g. "127.0.0.1"). See
# guanxi.core.login_throttle.
AXES_CLIENT_IP_CALLABLE = "guanxi.core.login_throttle.client_ip"
GUANXI_TRUSTED_PROXIES = env_list("GUANXI_TRUSTED_PROXIES", "")
# Failed logins from one address across all usernames before it waits a cool-off.
GUANXI_LOGIN_ADDRESS_LIMIT = int(os.environ.get("GUANXI_LOGIN_ADDRESS_LIMIT", "30"))

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# zh-Hans groups amounts by thousands (¥2,670,000.00): guanxi/formats/zh_Hans/formats.py.
FORMAT_MODULE_PATH = ["guanxi.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", PROJECT_DIR / "staticfiles"))
NODE_MODULES = PROJECT_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/alpinejs", NODE_MODULES / "alpinejs" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/sortablejs", NODE_MODULES / "sortablejs"),
    ("vendor/altcha", NODE_MODULES / "altcha" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Periodic jobs enqueued by `guanxi scheduler` (started by `guanxi serve`): (task, seconds).
GUANXI_PERIODIC_TASKS = [
    (
        "guanxi.notifications.tasks.send_pending_emails",
        int(os.environ.get("NOTIFICATION_MAIL_SECONDS", "60")),
    ),
    (
        "guanxi.interactions.tasks.scan_due_reminders",
        int(os.environ.get("REMINDER_SCAN_SECONDS", "300")),
    ),
    (
        "guanxi.sales.tasks.scan_overdue_instalments",
        int(os.environ.get("OVERDUE_SCAN_SECONDS", "3600")),
    ),
    ("guanxi.reception.tasks.sweep_public_pool", int(os.environ.get("POOL_SWEEP_SECONDS", "3600"))),
    ("guanxi.core.tasks.deliver_webhooks", int(os.environ.get("WEBHOOK_SCAN_SECONDS", "30"))),
    ("guanxi.service.tasks.scan_sla", int(os.environ.get("SLA_SCAN_SECONDS", "120"))),
    ("guanxi.loyalty.tasks.expire_points", int(os.environ.get("POINTS_EXPIRY_SECONDS", "3600"))),
    ("guanxi.loyalty.tasks.review_tiers", int(os.environ.get("TIER_REVIEW_SECONDS", "86400"))),
    ("guanxi.insights.tasks.recompute_all", int(os.environ.get("INSIGHTS_SECONDS", "86400"))),
    ("guanxi.insights.tasks.scan_churn", int(os.environ.get("CHURN_SCAN_SECONDS", "3600"))),
    (
        "guanxi.marketing.tasks.send_due_campaigns",
        int(os.environ.get("CAMPAIGN_SCAN_SECONDS", "60")),
    ),
    (
        "guanxi.marketing.tasks.rebuild_segments",
        int(os.environ.get("SEGMENT_REBUILD_SECONDS", "86400")),
    ),
    (
        "guanxi.marketing.tasks.send_birthday_greetings",
        int(os.environ.get("BIRTHDAY_GREETING_SECONDS", "3600")),
    ),
    (
        "guanxi.marketing.tasks.attribute_conversions",
        int(os.environ.get("ATTRIBUTION_SECONDS", "3600")),
    ),
    ("guanxi.core.tasks.recover_stale_tasks", 60),
    (
        "guanxi.core.tasks.refresh_planner_statistics",
        int(os.environ.get("PLANNER_STATISTICS_SECONDS", "86400")),
    ),
    (
        "guanxi.transfer.tasks.remove_old_import_files",
        int(os.environ.get("IMPORT_CLEANUP_SECONDS", "86400")),
    ),
]
# A task row RUNNING longer than this is taken for lost (its worker died) and marked FAILED.
GUANXI_TASK_TIMEOUT_SECONDS = int(os.environ.get("GUANXI_TASK_TIMEOUT_SECONDS", "900"))

# Checks `guanxi scheduler` runs itself, every few seconds: (function, seconds).
GUANXI_SCHEDULER_CHECKS = [
    (
        "guanxi.transfer.jobs.reap_dead_imports",
        int(os.environ.get("IMPORT_REAP_SECONDS", "2")),
    ),
]

# Webhooks (C8): seconds before each retry; after the last one a delivery is marked failed.
GUANXI_WEBHOOK_BACKOFF = [60, 300, 1800, 7200, 43200]

# Imports (C8): uploaded files, progress and error reports live here.
GUANXI_IMPORT_DIR = Path(os.environ.get("GUANXI_IMPORT_DIR", VAR_DIR / "imports"))
GUANXI_IMPORT_MAX_BYTES = int(os.environ.get("GUANXI_IMPORT_MAX_MB", "500")) * 1024 * 1024
# Days an uploaded file is kept after its import ended (for "run again"), then removed.
GUANXI_IMPORT_KEEP_DAYS = int(os.environ.get("GUANXI_IMPORT_KEEP_DAYS", "7"))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "guanxi@localhost")

# Marketing (C7): campaign e-mail goes to this SMTP server through Django's mail API.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
GUANXI_MARKETING_EMAIL_BACKEND = os.environ.get("MARKETING_EMAIL_BACKEND", "")
GUANXI_MARKETING_FROM = os.environ.get("MARKETING_FROM_EMAIL", DEFAULT_FROM_EMAIL)
GUANXI_MARKETING_RATE = float(os.environ.get("MARKETING_RATE", "200"))  # messages a second
GUANXI_MARKETING_BATCH = int(os.environ.get("MARKETING_BATCH", "100"))
GUANXI_MARKETING_CONNECTIONS = int(os.environ.get("MARKETING_CONNECTIONS", "4"))  # SMTP sessions
GUANXI_PUBLIC_URL = os.environ.get("GUANXI_PUBLIC_URL", "http://127.0.0.1:8000")
GUANXI_SMS_BACKEND = os.environ.get("SMS_BACKEND", "guanxi.marketing.channels.FileSmsBackend")
GUANXI_SMS_FILE = Path(os.environ.get("SMS_FILE", VAR_DIR / "sms-outbox.jsonl"))
GUANXI_SMS_INBOUND_SECRET = os.environ.get("SMS_INBOUND_SECRET", "")
GUANXI_BOUNCE_INBOUND_SECRET = os.environ.get("BOUNCE_INBOUND_SECRET", "")
GUANXI_WECHAT_BACKEND = os.environ.get(
    "WECHAT_BACKEND", "guanxi.marketing.channels.FileWechatBackend"
)
GUANXI_WECHAT_FILE = Path(os.environ.get("WECHAT_FILE", VAR_DIR / "wechat-outbox.jsonl"))

# Security: secure defaults outside DEBUG; GUANXI_HTTPS=0 for a plain-HTTP demo on loopback.
HTTPS = env_bool("GUANXI_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
CSRF_FAILURE_VIEW = "guanxi.urls.csrf_failure"
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Business defaults (C1, C8). Configurable per deployment.
GUANXI_DEFAULT_REGION = os.environ.get("GUANXI_DEFAULT_REGION", "CN")
GUANXI_PAGE_SIZE = 25

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Customer service (C5): the public contact form's captcha difficulty (leading hex zeros of
# the proof of work) and rate limit per address (submissions, seconds); the unit that
# receives web requests from unknown people (an org-unit id; default the head office); and
# whether an unresolved complaint blocks quotes and deposits instead of asking to confirm.
GUANXI_CAPTCHA_PREFIX = os.environ.get("GUANXI_CAPTCHA_PREFIX", "0000")
GUANXI_CONTACT_RATE = (
    int(os.environ.get("GUANXI_CONTACT_RATE_COUNT", "5")),
    int(os.environ.get("GUANXI_CONTACT_RATE_SECONDS", "3600")),
)
GUANXI_SERVICE_WEB_UNIT = (
    int(os.environ["GUANXI_SERVICE_WEB_UNIT"])
    if os.environ.get("GUANXI_SERVICE_WEB_UNIT")
    else None
)
GUANXI_BLOCK_SALES_ON_COMPLAINT = env_bool("GUANXI_BLOCK_SALES_ON_COMPLAINT", False)
