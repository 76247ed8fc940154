"""Settings of the monolith, all from the environment (django-environ).

Development (SHOP_ENV=development, the default) works with no configuration at all: SQLite and a
filesystem broker under var/, a generated secret key and JWT key pair. Production
(SHOP_ENV=production) refuses to start without its secrets. What every backend shares comes
from the chassis (strangler.service.backend); what follows it is the monolith's own.
"""

from pathlib import Path

from shopenv import shop_environment

from strangler.service.backend import backend_settings

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent

SHOP = shop_environment(repo_dir=REPO_DIR)
env, PRODUCTION, VAR_DIR = SHOP.env, SHOP.production, SHOP.var_dir

vars().update(
    backend_settings(
        env=env,
        backend="monolith",
        project="shop",
        apps=["shop", "accounts", "catalog", "reviews", "orders", "payments"],
        production=PRODUCTION,
        var_dir=VAR_DIR,
        plan=SHOP.plan,
        database_env="MONOLITH_DATABASE_URL",
        static_root=VAR_DIR / "static",
        api_title="Shop API",
        api_description="The shop's public HTTP API (see shop-api.md).",
    )
)
AUTH_USER_MODEL = "accounts.User"
# Logins through the admin count against the API's lockout (accounts.backends).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledLoginBackend"]
# The token of a user this copy has not received yet is read through from the auth domain's owner.
STRANGLER_USER_AGGREGATE = "user"

SHOP_ADMIN_EMAIL = env.str("SHOP_ADMIN_EMAIL", default="" if PRODUCTION else "admin@shop.local")
SHOP_ADMIN_PASSWORD = env.str(
    "SHOP_ADMIN_PASSWORD", default="" if PRODUCTION else "admin-pass-1234"
)

# E-mail from EMAIL_URL (smtp://, consolemail://, ...); development writes mails to var/mail.
_email = env.email_url("EMAIL_URL") if PRODUCTION else env.email_url("EMAIL_URL", "filemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@shop.local")

PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="payments.gateways.TestGateway")

# Celery beat: besides the compensation sweeper, confirmations whose task was never queued.
CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,  # noqa: F821  (set by backend_settings above)
    "send-due-confirmations": {"task": "payments.tasks.send_due_confirmations", "schedule": 30.0},
}
