"""Backstage settings: one module, read top to bottom.

Every value comes from the environment with a safe local default. Without DEBUG
the defaults that are only fit for a laptop stop start-up (see the end).
"""

import os
from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
LOCAL_SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", LOCAL_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
# Unset, the address of `runserver` on PORT (scripts/run), so that the links it prints work.
SITE_URL = os.environ.get(
    "SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
).rstrip("/")
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "backstage.apps.BackstageAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Emails are sent after the response by its worker (manage.py db_worker; accounts.emails).
    "django_tasks_db",
    "django_otp",
    # Before mfa, whose admin replaces the one that this app registers (mfa.admin).
    "mfa.apps.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp
    "phonenumber_field",
    "axes",
    "accounts",
    "mfa",
    "organizations",
]

MIDDLEWARE = [
    # First: /healthz answers before sessions, sign-in and the HTTPS redirect (backstage.health).
    "backstage.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: one that cannot be parsed answers 400 (core.request_body).
    "core.request_body.UnparsableBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: the browser's language (its Accept-Language,
    # or the footer's switch), until a signed-in member's stored one replaces it below.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.session_lifetime.SessionLifetimeMiddleware",
    # After SessionLifetimeMiddleware, which must read the session before request.user is
    # looked up: a signed-in member's stored language wins over the browser's.
    "accounts.languages.StoredLanguageMiddleware",
    "backstage.no_store.NoStoreForMembersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # django-axes wants to be last so that it sees the outcome of every view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backstage.urls"
WSGI_APPLICATION = "backstage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "backstage.context_processors.sidebar",
                "mfa.context_processors.remembered_browsers",
            ],
            # {% cached_per_language %}: markup rendered once per language (core.per_language).
            "libraries": {"per_language": "core.per_language"},
        },
    },
]

# Django's form renderer, with its simplest templates written in Python (core.form_renderer).
FORM_RENDERER = "core.form_renderer.FormRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")
    )
}
# On PostgreSQL each app-server thread keeps its connection for ten minutes: a connection
# per request halved gunicorn's throughput and cost PostgreSQL four times the CPU per
# sign-in (issue 12). Persistent connections rather than Django's psycopg pool: gunicorn's
# sync workers serve one request at a time, so a pool in each process would hold one
# connection anyway (a pool pays off with many threads per process), and it needs
# psycopg_pool on top. The health check before a request's first query replaces a
# connection the server dropped (a restart, a killed backend) instead of failing the
# request. DATABASE_CONN_MAX_AGE sets the seconds; SQLite, a local file, keeps 0 (a
# connection per request).
DATABASES["default"]["CONN_MAX_AGE"] = int(
    os.environ.get(
        "DATABASE_CONN_MAX_AGE",
        "600" if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else "0",
    )
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Accounts and passwords ----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
]
LOGIN_URL = "accounts:signin"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:signin"
# No composition rules: length, a blocklist and similarity to the person's name or email.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
PASSWORD_MAX_LENGTH = 256
PASSWORD_RESET_TIMEOUT = int(timedelta(hours=1).total_seconds())
INVITATION_VALID_FOR = timedelta(days=int(os.environ.get("INVITATION_VALID_DAYS", "7")))

# Sessions and cookies ------------------------------------------------------
# Django's database sessions in fewer statements per sign-in (accounts.session_store).
SESSION_ENGINE = "accounts.session_store"
# A signed-in session ends 12 hours after the sign-in and after an hour without a request
# (accounts.session_lifetime).
SESSION_COOKIE_AGE = int(timedelta(hours=12).total_seconds())
SESSION_IDLE_TIMEOUT = timedelta(hours=1)
# Security changes (phone, authenticator app, ending other sessions) ask for the password
# again unless it (or enterprise login) was given this long ago at most (accounts.reauth).
REAUTHENTICATION_VALID_FOR = timedelta(minutes=10)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
# The footer's language switch (set_language) and personal settings' Language set it.
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The __Host- prefix pins a cookie to this exact host over HTTPS; browsers drop it on plain HTTP.
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-sessionid"
CSRF_COOKIE_NAME = "csrftoken" if DEBUG else "__Host-csrftoken"
# Flash messages in the session, not in a cookie of their own: "We've sent an invitation to
# grace@example.com" must not sit in the browser in readable base64.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Limits --------------------------------------------------------------------
# Every limit in one shape: at most "max" events within "window", read through
# core.limits.limit(name) and nowhere else. The pages word them from here.
def per(window: timedelta, most: int) -> dict:
    return {"window": window, "max": most}


_signin_pause = timedelta(minutes=15)
LIMITS = {
    # Wrong passwords for one email from one IP, then from any IP (accounts.lockout): the
    # second stops guesses spread over many addresses (or a forged X-Forwarded-For).
    "SIGNIN_FAILURES_PER_EMAIL_AND_IP": per(
        _signin_pause, int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
    ),
    "SIGNIN_FAILURES_PER_EMAIL": per(
        _signin_pause, int(os.environ.get("SIGNIN_FAILURES_PER_EMAIL", "20"))
    ),
    # Wrong passwords for one account in a row (NIST SP 800-63B's ceiling of 100), each
    # within the window of the one before: then the password stops working until the
    # member resets it by email or support unlocks it (accounts.password_lock).
    "PASSWORD_FAILURES_IN_A_ROW": per(timedelta(days=30), 100),
    # Forgot password? requests (accounts.password_reset).
    "PASSWORD_RESETS_PER_EMAIL": per(timedelta(hours=1), 3),
    "PASSWORD_RESETS_PER_IP": per(timedelta(hours=1), 20),
    # Invitation emails, first or resent, per address and organization, and per
    # organization (a whole team invited at once stays well below; accounts.invitations).
    "INVITATIONS_PER_ADDRESS": per(timedelta(hours=24), 3),
    "INVITATIONS_PER_ORGANIZATION": per(timedelta(hours=1), 100),
    # Enterprise sign-ins started from one client IP and not yet answered (an unanswered
    # one is dropped after 30 minutes): high, since a whole office signs in from one
    # address in the morning (organizations.sso).
    "SSO_STARTS_PER_IP": per(
        timedelta(minutes=30), int(os.environ.get("SSO_STARTS_PER_IP", "300"))
    ),
    # Text messages per member, per number, per block of 100 adjacent numbers and per
    # client IP, each within an hour and within a day (mfa.sending).
    "SMS_PER_USER_HOUR": per(timedelta(hours=1), 5),
    "SMS_PER_USER_DAY": per(timedelta(days=1), 10),
    "SMS_PER_NUMBER_HOUR": per(timedelta(hours=1), 5),
    "SMS_PER_NUMBER_DAY": per(timedelta(days=1), 10),
    "SMS_PER_NUMBER_BLOCK_HOUR": per(timedelta(hours=1), 10),
    "SMS_PER_NUMBER_BLOCK_DAY": per(timedelta(days=1), 30),
    "SMS_PER_IP_HOUR": per(timedelta(hours=1), 10),
    "SMS_PER_IP_DAY": per(timedelta(days=1), 30),
    # Wrong SMS codes for one account in a row, each within the window of the one before,
    # whatever the sign-in attempt and however many codes were resent; then no code is
    # accepted until the window has passed (mfa.models.SmsDevice). Each attempt also backs
    # off on its own, MFA_THROTTLE_FACTOR seconds doubling (SECURITY 12).
    "SMS_CODE_FAILURES_PER_USER": per(timedelta(hours=1), 20),
}

# Lockout (django-axes) -----------------------------------------------------
# Axes reads its own settings: its limit for one email from one IP is the one in LIMITS,
# and a locked pair stays locked for that limit's window. accounts.lockout adds the
# limit per email whatever the IP.
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = LIMITS["SIGNIN_FAILURES_PER_EMAIL_AND_IP"]["max"]
AXES_COOLOFF_TIME = LIMITS["SIGNIN_FAILURES_PER_EMAIL_AND_IP"]["window"]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Sign-ins are recorded as security events (accounts.events); axes' own log of them would
# be a second record, written on every sign-in and read by nothing here.
AXES_DISABLE_ACCESS_LOG = True
# A refused try is not counted: the pause ends AXES_COOLOFF_TIME after the last counted
# failure, as the message says, and a refusal by either limit is answered as a lockout.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_from_request"
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "code", "token"]
AXES_VERBOSE = False
# How many reverse proxies in front of the app append to X-Forwarded-For; 0 trusts
# only the TCP peer, so a forged header changes nothing.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Second factor -------------------------------------------------------------
MFA_ENFORCEMENT_DATE = date.fromisoformat(os.environ.get("MFA_ENFORCEMENT_DATE", "2024-12-03"))
MFA_REMEMBER_FOR = timedelta(days=14)
MFA_REMEMBER_COOKIE_NAME = "backstage_remember" if DEBUG else "__Host-backstage_remember"
MFA_CODE_VALID_FOR = timedelta(minutes=10)
MFA_CODE_MAX_FAILURES = 5
MFA_RESEND_COOLDOWN = timedelta(seconds=30)
# Seconds of back-off after the first wrong code, doubling with each further one: per
# sign-in attempt for SMS codes (a new code for the same attempt does not reset it, another
# session's wrong codes do not add to it), per member for the authenticator app
# (django-otp ThrottlingMixin).
MFA_THROTTLE_FACTOR = 1
# The authenticator app (TOTP, mfa.authenticator): the same back-off as SMS codes; the
# issuer names the account in the app. No drift learning (OTP_TOTP_SYNC): a code is
# accepted one 30-second step either side of our clock, never more, whatever was seen before.
OTP_TOTP_THROTTLE_FACTOR = MFA_THROTTLE_FACTOR
OTP_TOTP_ISSUER = "Backstage"
OTP_TOTP_SYNC = False
SMS_ALLOWED_COUNTRIES = env_list(
    "SMS_ALLOWED_COUNTRIES",
    "AT,AU,BE,CA,CH,CZ,DE,DK,ES,FI,FR,GB,IE,IT,LU,NL,NO,NZ,PL,PT,SE,SG,US",
)
SMS_BACKEND = {
    "console": "mfa.sms.console.SmsBackend",
    "filebased": "mfa.sms.filebased.SmsBackend",
    "locmem": "mfa.sms.locmem.SmsBackend",
    "twilio": "mfa.sms.twilio.SmsBackend",
}.get(
    os.environ.get("SMS_BACKEND", "filebased" if DEBUG else "twilio"),
    os.environ.get("SMS_BACKEND", ""),
)
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", BASE_DIR / "var" / "outbox" / "sms"))
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "https://api.twilio.com")
TWILIO_TIMEOUT_SECONDS = float(os.environ.get("TWILIO_TIMEOUT_SECONDS", "10"))
# One deadline for a whole send, however slowly Twilio trickles its answer: a worker is
# never held longer than this by a text message (mfa.sms.twilio).
SMS_SEND_DEADLINE = float(os.environ.get("SMS_SEND_DEADLINE", "5"))
TWILIO_STATUS_CALLBACK = os.environ.get("TWILIO_STATUS_CALLBACK")  # unset: our webhook; "": off
PHONENUMBER_DB_FORMAT = "E164"
# How long the record of each text (mfa.models.SmsMessage: number, member, IP, delivery) is
# kept before `manage.py sms_limits_prune` deletes it: a quarter, for support's questions
# and the provider's monthly bills, and no longer, since it is personal data. Never less
# than the longest SMS limit window: mfa.checks refuses a shorter value (mfa.E001).
SMS_MESSAGES_KEPT_FOR = timedelta(days=int(os.environ.get("SMS_MESSAGES_KEPT_DAYS", "90")))

# Email ---------------------------------------------------------------------
EMAIL_OUTBOX_DIR = Path(os.environ.get("EMAIL_FILE_PATH", BASE_DIR / "var" / "outbox" / "email"))
_email_backend = os.environ.get("EMAIL_BACKEND", "filebased" if DEBUG else "smtp")
_email_backends = {
    "console": {"BACKEND": "django.core.mail.backends.console.EmailBackend"},
    "filebased": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(EMAIL_OUTBOX_DIR)},
    },
    "locmem": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
    "smtp": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        },
    },
}
# Django's dotted spelling (django.core.mail.backends.filebased.EmailBackend) names the same
# backend as the short one, with the same options (EMAIL_FILE_PATH, EMAIL_HOST...).
_email_backends.update({mailer["BACKEND"]: mailer for mailer in list(_email_backends.values())})
MAILERS = {"default": _email_backends.get(_email_backend, {"BACKEND": _email_backend})}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Backstage <no-reply@backstage.local>")
# Emails leave after the response: accounts.emails.send_email stores a task in the database
# and django-tasks-db's worker (manage.py db_worker, beside the web server) sends it, so
# that a page answers in the same time whether or not it emails anyone. A send that fails
# is tried again after each of these delays, then stays in the database as a failed task
# until `manage.py emails_retry`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_RETRY_DELAYS = [
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
    timedelta(hours=12),
]

# Internationalization and static files -------------------------------------
LANGUAGE_CODE = "en"
# The languages of every page, email and text message (accounts.languages); a translator
# adds one here and in locale/ (README, "Translations").
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The country picker, straight from the npm package (package.json); never copied by hand.
    ("vendor/intl-tel-input", BASE_DIR / "node_modules" / "intl-tel-input" / "dist"),
]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# HTTP hardening ------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else int(timedelta(days=365).total_seconds())
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Axes logs every attempt at INFO; lockouts come as warnings.
        "axes": {"level": "WARNING"},
    },
}

# Refuse to start on settings that only fit a laptop --------------------------
if not DEBUG:
    problems = []
    if not SECRET_KEY or SECRET_KEY == LOCAL_SECRET_KEY:
        problems.append("set SECRET_KEY to a long random value")
    # The console backend would print every code into the server's logs.
    if SMS_BACKEND == "mfa.sms.console.SmsBackend":
        problems.append("set SMS_BACKEND to twilio (the console backend prints codes)")
    if SMS_BACKEND == "mfa.sms.twilio.SmsBackend" and not (
        TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER
    ):
        problems.append("set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER")
    if problems:
        raise ImproperlyConfigured(
            "Unsafe configuration without DEBUG: "
            + "; ".join(problems)
            + ". For local development set DEBUG=1 instead."
        )
