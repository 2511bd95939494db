"""Forgot password?: a link by email, then a new password that ends every session.

The request answers the same whether or not the email has an account (the view shows one
page for all), and does the same database work either way, in the same time: whether the
address gets an email is decided after the response, by a task (password_reset_email);
only an existing, active account that does not have to use enterprise login gets one.
Requests are limited per email and per client IP (PASSWORD_RESETS_PER_EMAIL and _PER_IP in
settings.LIMITS), counted in the database (PasswordResetRequest).

The link is Django's reset token with the security stamp mixed in: it dies when the
password changes (so it works once), when the member signs in, when all their sessions
are ended, and PASSWORD_RESET_TIMEOUT after it was made.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.http import HttpRequest
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from accounts.emails import send_email
from accounts.models import PasswordResetRequest, User, normalize_email
from accounts.services import user_password_change
from core.errors import ApplicationError
from core.limits import limit, limit_reached
from organizations.sso import enterprise_login_mandatory

RESET_LIMITS = ("PASSWORD_RESETS_PER_EMAIL", "PASSWORD_RESETS_PER_IP")


class PasswordResetError(ApplicationError):
    """Why a reset cannot be completed; `message` is shown to the person."""


ERRORS = {
    "invalid": _("This password reset link can't be used. A link works once and for one "
    "hour, and signing in meanwhile also ends it. Ask for a new link."),
    "sso": _("Your organization signs you in with Enterprise login, so there is no Backstage "
    "password to reset. Use Enterprise login on the sign-in page."),
}


class PasswordResetTokens(PasswordResetTokenGenerator):
    key_salt = "accounts.password_reset.PasswordResetTokens"

    def _make_hash_value(self, user, timestamp):
        # The stamp too: ending every session of a member (a phone reset, a password
        # change) also ends the links already sent to them.
        return f"{super()._make_hash_value(user, timestamp)}{user.security_stamp}"

    def _now(self):
        # Django reads the local clock here; this code base reads "now" through timezone.now.
        return timezone.now().replace(tzinfo=None)


password_reset_tokens = PasswordResetTokens()


def password_reset_url(user: User) -> str:
    return settings.SITE_URL + reverse(
        "accounts:password-reset-confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": password_reset_tokens.make_token(user),
        },
    )


@transaction.atomic
def password_reset_request(*, email: str, ip: str | None) -> None:
    """Email a reset link to `email` when it is an active account's and no limit is reached.

    Returns nothing and raises nothing about the account: the caller answers the same way
    whatever happened here.
    """
    email = normalize_email(email)
    now = timezone.now()
    # Rows past the longest window count for nothing any more.
    kept_for = max(limit(name).window for name in RESET_LIMITS)
    PasswordResetRequest.objects.filter(created_at__lt=now - kept_for).delete()
    # Locking the account's row makes concurrent requests for one address count in turn.
    User.objects.select_for_update().filter(email=email, is_active=True).first()
    rows = PasswordResetRequest.objects
    if limit_reached("PASSWORD_RESETS_PER_EMAIL", rows.filter(email=email), now=now):
        return
    if ip and limit_reached("PASSWORD_RESETS_PER_IP", rows.filter(ip_address=ip), now=now):
        return
    PasswordResetRequest.objects.create(email=email, ip_address=ip, created_at=now)
    # Every request not refused by a limit stores this task, account or not: building the
    # link and the email took an address with an account half as long again (issue 10).
    # The request's language goes along: the worker has no browser to take it from.
    # Stored with the request's row, in its transaction (accounts.emails.send_email says why).
    language = translation.get_language() or ""
    password_reset_email.enqueue(email=email, language=language)


@task
def password_reset_email(*, email: str, language: str = "") -> None:
    """After the response: email a reset link to `email` if it is an active account's that
    does not have to use enterprise login, in their stored language, else in `language`
    (the browser's that asked)."""
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None or enterprise_login_mandatory(email):
        return
    send_email(to=user.email, template="password_reset",
               context={"user": user, "url": password_reset_url(user)},
               language=user.language or language)


@transaction.atomic
def password_reset_complete(
    *, user: User, token: str, password: str, request: HttpRequest
) -> User:
    """Set `password` (already validated) if `token` is still good for `user`; single use.

    Every session of the member ends and every remembered browser is forgotten, so the
    next sign-in needs the new password and an SMS code. Nobody is signed in.
    """
    # The row lock makes two submissions of one link wait for each other; the second then
    # sees the new password, which no longer matches the token.
    user = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
    if user is None or not password_reset_tokens.check_token(user, token):
        raise PasswordResetError(ERRORS["invalid"], code="invalid")
    if enterprise_login_mandatory(user.email):
        raise PasswordResetError(ERRORS["sso"], code="sso")
    user_password_change(user=user, password=password, request=request, via="reset")
    return user
