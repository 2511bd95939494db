"""The sign-in as stages, each with its state in the session.

1. Password (accounts.views.signin): starts a *pending* sign-in.
2. Second factor (mfa.views, mfa.passkey_views): enrollment of a phone, the member's
   passkey, a code from their authenticator app, a code sent to their phone or a recovery
   code; skipped when MFA does not apply or a remembered browser vouches for the member.
3. `signin_complete`: the one way anybody becomes signed in (password, SMS, authenticator
   app, recovery code, passkey, remembered browser or enterprise login all end here; "Sign
   in with a passkey" comes straight here, a passkey being both factors).

Until step 3 nobody is authenticated, so LoginRequiredMiddleware keeps a half-signed-in
session out of everything but the views marked `login_not_required`.
"""

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import django_otp
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.events import security_event_record
from accounts.models import SecurityEvent, User, user_by_pk
from core.http import client_of

PENDING_KEY = "signin_pending"
METHOD_KEY = "signin_method"
# Set when a code (SMS or app) is entered after the sign-in, to step up a session that
# signed in without one (mfa.views.step_up).
SECOND_FACTOR_KEY = "second_factor_at"
# Time to get through the second factor after the password.
PENDING_VALID_FOR = timedelta(minutes=15)


class Method(StrEnum):
    PASSWORD = "password"  # noqa: S105 (a method name; MFA does not apply to this member yet)
    SMS = "sms"
    TOTP = "totp"  # a code from an authenticator app
    RECOVERY = "recovery"  # one of the member's recovery codes (mfa.recovery)
    PASSKEY = "passkey"  # the password, then a passkey
    PASSWORDLESS = "passwordless"  # a discoverable passkey with user verification: both factors
    REMEMBERED = "remembered"
    SSO = "sso"


@dataclass
class PendingSignin:
    user_id: int
    stamp: str  # the user's security stamp then: a phone reset meanwhile ends the attempt
    attempt: str  # binds SMS codes to this attempt (mfa.codes)
    next_url: str
    started_at: str


def signin_pending_start(request: HttpRequest, user: User, *, next_url: str) -> PendingSignin:
    # A new session key once the password is known, so a planted session id is worthless.
    # Without one yet there is nothing to replace: the session gets its key when saved.
    if request.session.session_key:
        request.session.cycle_key()
    pending = PendingSignin(
        user_id=user.pk,
        stamp=user.security_stamp,
        attempt=secrets.token_urlsafe(32),
        next_url=next_url,
        started_at=timezone.now().isoformat(),
    )
    request.session[PENDING_KEY] = asdict(pending)
    return pending


def signin_pending_user_id(request: HttpRequest) -> int | None:
    """Whose sign-in this session has pending, unchecked (signin_pending checks it): for a
    step that reads the member together with what it needs of theirs (mfa.views.verify)."""
    data = request.session.get(PENDING_KEY)
    return data["user_id"] if data else None


def signin_pending(
    request: HttpRequest, *, user: User | None = None
) -> tuple[User, PendingSignin] | None:
    """The member half-way through signing in on this session, if the attempt is still good.

    `user`: the member as the caller read them already, with what it needs of theirs (the
    code step reads them with their phone); None, or anybody else, and they are read here.
    """
    data = request.session.get(PENDING_KEY)
    if not data:
        return None
    pending = PendingSignin(**data)
    started = datetime.fromisoformat(pending.started_at)
    if user is None or user.pk != pending.user_id:
        # An inactive member is read too, and refused just below.
        user = user_by_pk(pending.user_id)
    if (
        user is None
        or not user.is_active
        or timezone.now() - started > PENDING_VALID_FOR
        or not constant_time_compare(user.security_stamp, pending.stamp)
        # Every pending sign-in started with the password (accounts.services.user_sessions_end).
        or (user.password_sessions_ended_at is not None
            and started <= user.password_sessions_ended_at)
    ):
        signin_pending_clear(request)
        return None
    return user, pending


def signin_pending_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def signin_complete(
    request: HttpRequest, user: User, *, method: Method, device=None, organization=None
) -> None:
    """Sign `user` in on this request's session, by `method` (with the django-otp `device`
    that gave the second factor; enterprise login: through `organization`'s identity
    provider).

    One transaction: the sign-in's rows (last login, the security event, axes' bookkeeping)
    and the session under its new key commit together, or none of them. Call it inside the
    caller's transaction to add what led here (the code that was used, the browser that
    vouched).
    """
    with transaction.atomic(savepoint=False):
        signin_pending_clear(request)
        login(request, user, backend="accounts.backends.EmailBackend")  # rotates the key
        if device is not None:
            django_otp.login(request, device)
        request.session[METHOD_KEY] = str(method)
        # A step-up belongs to the sign-in it followed.
        request.session.pop(SECOND_FACTOR_KEY, None)
        security_event_record(
            kind=SecurityEvent.Kind.SSO_SIGNIN
            if method == Method.SSO
            else SecurityEvent.Kind.SIGNIN_SUCCEEDED,
            **client_of(request),
            actor=user,
            subject=user,
            organization=organization,
            method=str(method),
        )
        # Now rather than with the response (which then has nothing left to write:
        # accounts.session_store), so that it is part of this transaction.
        request.session.save()


# The sign-in methods that gave a second factor in the session itself: a code, or a
# passkey (after the password, or alone: a passkey that verified the person is both factors).
CODE_METHODS = (Method.SMS, Method.TOTP, Method.RECOVERY, Method.PASSKEY, Method.PASSWORDLESS)


def session_has_second_factor(request: HttpRequest) -> bool:
    """Whether a second factor was given in this session: the sign-in's code (SMS, app or
    recovery code) or passkey, or a code entered since (second_factor_record).

    A remembered browser is one factor plus the browser (README, SECURITY 18), and
    enterprise login's factors are the identity provider's, unknown here: neither counts.
    """
    return request.session.get(METHOD_KEY) in CODE_METHODS or bool(
        request.session.get(SECOND_FACTOR_KEY)
    )


def second_factor_record(request: HttpRequest) -> None:
    """A code was entered in this signed-in session (the step-up before Django admin)."""
    request.session[SECOND_FACTOR_KEY] = timezone.now().isoformat()
