"""Changes to an account, as plain functions: its sessions, name and password.

Remembered browsers are forgotten through mfa.trust, which holds every rule about them.
"""

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.emails import send_email_on_commit
from accounts.events import security_event_record
from accounts.models import SecurityEvent, User, new_security_stamp
from accounts.password_lock import password_unlock
from core.http import client_of
from mfa.trust import remembered_browsers_forget


def user_sessions_end(
    *,
    user: User,
    request: HttpRequest | None = None,
    keep_current: bool = False,
    keep_enterprise_login: bool = False,
    actor=None,
    **detail,
) -> None:
    """End every session of `user` at once, without scanning the session table.

    The security stamp is mixed into the session auth hash (User._get_session_auth_hash),
    so a new stamp makes every stored session, and every half-finished sign-in, stale.
    With `keep_current`, the session of `request` (the user's own) is carried over.

    With `keep_enterprise_login` only the sessions signed in some other way end (password,
    code, remembered browser) and half-finished sign-ins: the stamp stays and the moment is
    noted instead (User.password_sessions_ended_at), which accounts.session_lifetime and
    accounts.signin read with the user they load anyway. `detail` goes to the security event.
    """
    if keep_enterprise_login:
        user.password_sessions_ended_at = timezone.now()
        user.save(update_fields=["password_sessions_ended_at"])
        detail["enterprise_login_sessions_kept"] = True
    else:
        user.security_stamp = new_security_stamp()
        user.save(update_fields=["security_stamp"])
    if keep_current and request is not None:
        update_session_auth_hash(request, user)
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    security_event_record(
        kind=SecurityEvent.Kind.SESSIONS_ENDED, **client_of(request), actor=actor, subject=user,
        **detail,
    )


def user_full_name_change(*, user: User, full_name: str) -> None:
    """`full_name` is already validated (accounts.settings_forms.FullNameForm)."""
    user.full_name = full_name
    user.save(update_fields=["full_name"])


def user_language_change(*, user: User, language: str) -> None:
    """`language` is one of settings.LANGUAGES, or blank for the browser's."""
    user.language = language
    user.save(update_fields=["language"])


@transaction.atomic
def user_password_change(
    *,
    user: User,
    password: str,
    request: HttpRequest | None = None,
    keep_current: bool = False,
    via: str = "settings",
) -> None:
    """Give `user` a new password, already validated (accounts.password_forms).

    Used by personal settings (`keep_current`: the member stays signed in here) and by
    the password reset (`via="reset"`: every session ends). Either way the member's other
    sessions end and their remembered browsers are forgotten, so that any other browser
    needs the new password and an SMS code; the change is recorded and they are told.
    """
    user.set_password(password)
    user.save(update_fields=["password"])
    # A new password, by email link or in settings, is the way out of a locked one.
    password_unlock(user=user, actor=user, **client_of(request))
    user_sessions_end(user=user, request=request, keep_current=keep_current, actor=user)
    forgotten = remembered_browsers_forget(user=user)
    security_event_record(
        kind=SecurityEvent.Kind.PASSWORD_CHANGED, **client_of(request), actor=user, subject=user,
        via=via, browsers_forgotten=forgotten,
    )
    context = {
        "user": user,
        "changed_at": timezone.now(),
        "via_reset": via == "reset",
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    send_email_on_commit(
        to=user.email, template="password_changed", context=context, language=user.language
    )


@transaction.atomic
def user_other_sessions_end(*, user: User, request: HttpRequest) -> None:
    """"Sign out of all other sessions" in personal settings: every session of `user` but
    this one ends, and they are told by email, so that a change they did not make does not
    go unnoticed."""
    user_sessions_end(user=user, request=request, keep_current=True)
    context = {
        "user": user,
        "changed_at": timezone.now(),
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    send_email_on_commit(
        to=user.email, template="sessions_ended", context=context, language=user.language
    )


def user_email_change(*, user: User, email: str, actor: User, request: HttpRequest) -> None:
    """Support staff give `user` a new `email` (already validated, by Django admin's form).

    Recorded, and both addresses are told: the old one in case the change is an attacker's
    way of taking the account over, the new one so its owner knows it now signs in there.
    """
    old_email = User.objects.filter(pk=user.pk).values_list("email", flat=True).get()
    user.email = email
    user.save(update_fields=["email"])
    if user.email == old_email:
        return
    security_event_record(
        kind=SecurityEvent.Kind.EMAIL_CHANGED, **client_of(request), actor=actor, subject=user,
        old_email=old_email, new_email=user.email,
    )
    context = {
        "full_name": user.full_name,
        "old_email": old_email,
        "new_email": user.email,
        "changed_at": timezone.now(),
        "signin_url": settings.SITE_URL + reverse("accounts:signin"),
    }
    for to in (old_email, user.email):
        send_email_on_commit(
            to=to, template="email_changed", context=context, language=user.language
        )
