"""Settings, read once from the environment (django-environ); the OS environment wins over `.env`.

Development defaults are the embedded set-up: SQLite and a file-system Celery broker under `var/`.
Production switches everything by environment variables (see README and `.env.example`).
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
# ENV_FILE points elsewhere (tests use it to ignore a developer's .env).
environ.Env.read_env(os.environ.get("ENV_FILE", BASE_DIR / ".env"), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# No default in production: without DEBUG the key must come from the environment.
# PRODUCTION=true removes every development default that would be unsafe (the secret key first).
PRODUCTION = env.bool("PRODUCTION", default=False)
SECRET_KEY = env("SECRET_KEY") if PRODUCTION else env("SECRET_KEY", default="dev-insecure-key-change-me")
if not SECRET_KEY.strip():
    raise environ.ImproperlyConfigured("SECRET_KEY is empty; set a long random value.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Before the admin so its admin/base_site.html (the disabled-webhook notice) is the one used.
    "webhooks",
    # Before the admin too: its admin/index.html adds the dashboard, its object tools export/import.
    "console",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "subscriptions",
    "loyalty",
    "integrations",
    "shopify",
    "portal",
    "portal.checkout",
    "notifications",
    "migration",
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
    "integrations.middleware.VendorBodyLimitMiddleware",
    "integrations.middleware.NulCharacterGuardMiddleware",
    "integrations.middleware.IdempotencyMiddleware",
    "integrations.middleware.GorgiasTicketNoteMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# Console sign-in: django-axes counts failures per (username, IP address) and locks that pair out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The address is REMOTE_ADDR (django-ipware is not installed): behind a proxy every sign-in shares the
# proxy's address, so the lockout then works per username.

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let web, worker and beat share the embedded database. IMMEDIATE: a
    # transaction takes the write lock when it begins, so concurrent writers wait their turn (the
    # busy timeout) instead of failing with "database is locked" when a read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
    DATABASES["default"]["TEST"] = (
        {"NAME": env("SQLITE_TEST_NAME", default="")} if env("SQLITE_TEST_NAME", default="") else {}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The languages a shop can talk to its customers in (Shop.language: native emails' defaults).
LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Cache: shared across processes (rate limits, idempotency) — Redis in production, database otherwise.
CACHE_URL = env("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": env.cache("CACHE_URL")}
    # Parallel test workers share one Redis: keep their counters apart.
    CACHES["default"]["KEY_PREFIX"] = env("PYTEST_XDIST_WORKER", default="")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_table",
        }
    }

# Field encryption (partner credentials). Comma-separated Fernet keys, newest first (MultiFernet).
# The development key is public: production must bring its own.
FIELD_ENCRYPTION_KEYS = (
    env.list("FIELD_ENCRYPTION_KEYS")
    if PRODUCTION
    else env.list("FIELD_ENCRYPTION_KEYS", default=["q3pD9Zx8mCw4b0t6mS3kYjH3yT7b4Yv1fQ2xJ5nE8aU="])
)

# Email: SMTP in production (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend), the
# console by default; `make run` writes each email as a file under var/mail (the development
# outbox): EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend, EMAIL_FILE_PATH.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="subscriptions@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: file-system broker under var/ by default; Redis/RabbitMQ via CELERY_BROKER_URL.
# BROKER_DATA_DIR moves the file-system broker's folders (tests run a private worker against one).
_broker_dir = Path(env("BROKER_DATA_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Named by dotted path so no domain app imports `integrations`.
    "DEFAULT_AUTHENTICATION_CLASSES": ["integrations.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api.auth.HasResourcePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api.auth.ApiKeyRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "subscriptions.api.common.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "COERCE_DECIMAL_TO_STRING": True,
}
VENDOR_API_RATE_LIMIT = env.int("VENDOR_API_RATE_LIMIT", default=600)  # requests per window per key
VENDOR_API_RATE_WINDOW = env.int("VENDOR_API_RATE_WINDOW", default=60)  # seconds
VENDOR_API_MAX_BODY_BYTES = env.int("VENDOR_API_MAX_BODY_BYTES", default=256 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Vendor API",
    "DESCRIPTION": "Smartrr-compatible vendor API for subscriptions, customers, orders and webhooks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The problem-details answer of every error, and the Idempotency-Key header on writes.
        "integrations.api.schema.add_problem_responses",
        # The webhook payload: WebhookEvent schema and one example per event type.
        "webhooks.api.schema.add_webhook_payloads",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Production hardening, switched by environment, never by editing code.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Outbound HTTP to merchant URLs: loopback/private only when explicitly allowed (dev and tests).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
# With both keys set, the portal's "Update payment method" uses Stripe Elements (a SetupIntent).
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
WEBHOOKS_ALLOW_PRIVATE_URLS = env.bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=False)

# Recharge migration source (Integrations > Migrations); tests point it at a local fake server.
RECHARGE_API_URL = env("RECHARGE_API_URL", default="https://api.rechargeapps.com")
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", default=30)
# How long a worker holds a delivery it is sending; after that the sweep hands it to another worker.
# Keep it well above WEBHOOKS_TIMEOUT_SECONDS, or a slow send can be taken over while in flight.
WEBHOOKS_DELIVERY_LEASE_SECONDS = env.float("WEBHOOKS_DELIVERY_LEASE_SECONDS", default=60.0)

# Klaviyo: the API revision every call pins (a date; change it here when the adapter is updated),
# and the profile that receives one of each metric when a shop connects.
KLAVIYO_REVISION = env("KLAVIYO_REVISION", default="2025-01-15")
KLAVIYO_TEST_PROFILE_EMAIL = env("KLAVIYO_TEST_PROFILE_EMAIL", default="subscriptions-test@example.com")

# Shopify Flow: the Admin API version every trigger call names (one place to move it forward), and
# the app's client secret, which signs the action calls Flow makes to /hooks/shopify-flow/actions/.
SHOPIFY_API_VERSION = env("SHOPIFY_API_VERSION", default="2025-01")
SHOPIFY_FLOW_APP_SECRET = env("SHOPIFY_FLOW_APP_SECRET", default="")
# The API secret of the Shopify app that signs the store's webhooks (X-Shopify-Hmac-Sha256), when
# one app serves every shop; a shop's own custom app secret can be saved with its connection instead.
SHOPIFY_APP_SECRET = env("SHOPIFY_APP_SECRET", default="")

# Attentive OAuth: the app's install page (its production host is unverified: kept here so it can
# be corrected without code), the app's client id and secret, and the scopes the install asks for.
ATTENTIVE_AUTHORIZE_URL = env(
    "ATTENTIVE_AUTHORIZE_URL", default="https://ui.attentivemobile.com/integrations/oauth-install"
)
ATTENTIVE_CLIENT_ID = env("ATTENTIVE_CLIENT_ID", default="")
ATTENTIVE_CLIENT_SECRET = env("ATTENTIVE_CLIENT_SECRET", default="")
ATTENTIVE_SCOPES = env("ATTENTIVE_SCOPES", default="events:write attributes:write")

# Gorgias OAuth (optional): with an app's client id and secret, "Connect" signs in with Gorgias
# instead of asking for an agent email and REST API key.
GORGIAS_CLIENT_ID = env("GORGIAS_CLIENT_ID", default="")
GORGIAS_CLIENT_SECRET = env("GORGIAS_CLIENT_SECRET", default="")
GORGIAS_SCOPES = env("GORGIAS_SCOPES", default="openid email profile offline write:all")

# Customer portal (/account/): sign-in links by email, signed deep links in notifications.
PORTAL_MAGIC_LINK_MINUTES = env.int("PORTAL_MAGIC_LINK_MINUTES", default=15)
PORTAL_DEEP_LINK_MAX_AGE = env.int("PORTAL_DEEP_LINK_MAX_AGE", default=7 * 24 * 3600)
# At most this many sign-in emails per email address and per IP address in the window.
PORTAL_LOGIN_RATE_LIMIT = env.int("PORTAL_LOGIN_RATE_LIMIT", default=5)
PORTAL_LOGIN_RATE_WINDOW_SECONDS = env.int("PORTAL_LOGIN_RATE_WINDOW_SECONDS", default=15 * 60)
# Hosted checkout (/subscribe/): at most this many order attempts per IP address in the window.
SUBSCRIBE_RATE_LIMIT = env.int("SUBSCRIBE_RATE_LIMIT", default=10)
SUBSCRIBE_RATE_WINDOW_SECONDS = env.int("SUBSCRIBE_RATE_WINDOW_SECONDS", default=10 * 60)
# The shop /account/login opens when the URL names none (?shop=<domain> picks another).
PORTAL_DEFAULT_SHOP_DOMAIN = env("PORTAL_DEFAULT_SHOP_DOMAIN", default="demo-shop.example")
# The code offered to customers who cancel because it is too expensive; empty: the shop's first
# active subscription-only discount code.
PORTAL_RETENTION_DISCOUNT_CODE = env("PORTAL_RETENTION_DISCOUNT_CODE", default="")
