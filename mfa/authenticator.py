"""An authenticator app (TOTP), the second factor that a member may add on top of SMS.

Built on django-otp's TOTPDevice: 6 digits, 30-second steps, SHA-1 (what every app
supports), one step of tolerance either way, the project's back-off after wrong codes, and
each code accepted once (`last_t`). A member has at most one confirmed device; a set-up
waits in an unconfirmed one until a code from the app confirms it.

The secret key is shown only on the set-up page while the device is unconfirmed. It goes
into no security event, email or log, and nothing shows it once the device is confirmed.
"""

from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.emails import send_email
from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.errors import ApplicationError
from mfa import device_names
from mfa.codes import CODE_DIGITS, CodeError, code_throttled_error
from mfa.models import SmsDevice

QR_LABEL = _("QR code to scan with your authenticator app")


class AuthenticatorError(ApplicationError):
    """Why a set-up cannot go on; `message` is shown to the member."""


def authenticator_device(user) -> TOTPDevice | None:
    """The member's confirmed authenticator app, if any. One query."""
    return TOTPDevice.objects.select_related("user").filter(user=user, confirmed=True).first()


def authenticators_confirmed(user):
    """The member's authenticator apps that count: confirmed by a first code. `user`: a
    member, their id, or an OuterRef to one (mfa.factors asks it in a subquery)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True)


def authenticator_set_up(user) -> bool:
    """Whether the member has a confirmed authenticator app: every password sign-in asks,
    so the cheapest query that answers."""
    return authenticators_confirmed(user).exists()


def authenticator_setup_pending(*, user, device_id) -> TOTPDevice | None:
    """The unconfirmed device that this session set up (`device_id`), if it is still waiting."""
    if not isinstance(device_id, int):
        return None
    return (
        TOTPDevice.objects.select_related("user")
        .filter(pk=device_id, user=user, confirmed=False)
        .first()
    )


def authenticator_secret(device: TOTPDevice) -> str:
    """The key as people type it into an app: base32, in groups of four."""
    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[start : start + 4] for start in range(0, len(key), 4))


def authenticator_qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// URI as an inline SVG QR code, named for screen readers.

    Inline, so that the secret never has a URL of its own (a cache or a history could keep
    it); segno draws with attributes, not style, so the CSP (style-src 'self') allows it.
    """
    svg = segno.make(device.config_url, error="m").svg_inline(
        light="#fff", omitsize=True, svgclass="qr-code"
    )
    # segno writes only paths of squares; the accessible name is ours, escaped.
    return mark_safe(  # noqa: S308
        svg.replace("<svg ", f'<svg role="img" aria-label="{escape(QR_LABEL)}" ', 1)
    )


@transaction.atomic
def authenticator_setup_start(*, user: User) -> TOTPDevice:
    """A new unconfirmed device for `user`, replacing any earlier set-up left unfinished.

    An app comes on top of the phone, which stays the fallback and what an admin's reset
    removes; a member with an app already removes it before setting up another.
    """
    # The member's row lock keeps two set-ups from leaving two devices.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if not SmsDevice.objects.on_file().filter(user=user).exists():
        raise AuthenticatorError(
            _("Add a phone first: text messages stay the way to sign in when the app is out "
            "of reach."),
            code="no_phone",
        )
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise AuthenticatorError(
            _("You already have an authenticator app. Remove it first to set up another."),
            code="already_set",
        )
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(
        user=user, name=device_names.AUTHENTICATOR_APP, confirmed=False, step=30,
        digits=CODE_DIGITS, tolerance=1,
    )


def _code_failed(device: TOTPDevice, *, ip: str | None, user_agent: str, reason: str) -> None:
    security_event_record(
        kind=SecurityEvent.Kind.CODE_FAILED,
        ip=ip,
        user_agent=user_agent,
        actor=device.user,
        subject=device.user,
        factor="totp",
        reason=reason,
    )


def authenticator_code_malformed(
    *, device: TOTPDevice, ip: str | None, user_agent: str
) -> None:
    """Record a code that could not be one (letters, too short): a try like any other."""
    _code_failed(device, ip=ip, user_agent=user_agent, reason="format")


def _code_at(device: TOTPDevice, t: int) -> str:
    """The code that the app showed at time step `t` (a TOTP code is the HOTP of its step)."""
    return f"{hotp(device.bin_key, t, device.digits):0{device.digits}d}"


def authenticator_verify(
    *, device: TOTPDevice, code: str, ip: str | None, user_agent: str
) -> TOTPDevice:
    """Return the device once `code` (6 digits) is right for it; else raise CodeError.

    django_otp.verify_token locks the device row, so a code is accepted once: of two
    requests with the same code exactly one wins, and a code already used is refused.
    """
    allowed, info = device.verify_is_allowed()
    if not allowed:
        _code_failed(device, ip=ip, user_agent=user_agent, reason="throttled")
        raise code_throttled_error(info["locked_until"])
    verified = django_otp.verify_token(device.user, device.persistent_id, code)
    if verified is not None:
        return verified
    last_t = TOTPDevice.objects.filter(pk=device.pk).values_list("last_t", flat=True).first()
    if last_t is None:
        # Removed, or replaced by a new set-up, since the page was shown.
        raise CodeError(
            _("This authenticator app is no longer set up on your account."), code="removed"
        )
    if last_t >= 0 and constant_time_compare(code, _code_at(device, last_t)):
        _code_failed(device, ip=ip, user_agent=user_agent, reason="reused")
        raise CodeError(
            _("This code was already used. Wait for the app to show a new one, then enter it."),
            code="reused",
        )
    _code_failed(device, ip=ip, user_agent=user_agent, reason="wrong")
    raise CodeError(
        _("That code isn't right. Enter the code that your authenticator app shows now for "
        "Backstage."),
        code="wrong",
    )


def _email(user: User, *, added: bool) -> None:
    context = {
        "user": user,
        "added": added,
        "changed_at": timezone.now(),
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    # Stored with the change (accounts.emails.send_email): both are kept, or neither.
    send_email(
        to=user.email,
        template="authenticator_changed",
        context=context,
        language=user.language,
    )


def authenticator_setup_confirm(
    *, device: TOTPDevice, code: str, ip: str | None, user_agent: str
) -> TOTPDevice:
    """With a right code from the app, the set-up `device` becomes the member's app.

    The code is checked first, on its own: a wrong one must count against the member
    (throttling) even though nothing else changes.
    """
    user = device.user
    device = authenticator_verify(device=device, code=code, ip=ip, user_agent=user_agent)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        confirmed = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).update(
            confirmed=True
        )
        if not confirmed:
            raise AuthenticatorError(
                _("This set-up was replaced by a newer one. Start again."), code="replaced"
            )
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        security_event_record(
            kind=SecurityEvent.Kind.AUTHENTICATOR_SET, ip=ip, user_agent=user_agent, actor=user,
            subject=user,
        )
        _email(user, added=True)
    device.confirmed = True
    return device


@transaction.atomic
def authenticator_remove(*, user: User, ip: str | None, user_agent: str) -> bool:
    """Remove the member's authenticator app at their own request; False if they had none.

    Sign-ins then send a code by text message again.
    """
    if not authenticators_delete(user=user):
        return False
    security_event_record(
        kind=SecurityEvent.Kind.AUTHENTICATOR_REMOVED, ip=ip, user_agent=user_agent, actor=user,
        subject=user,
    )
    _email(user, added=False)
    return True


def authenticators_delete(*, user: User) -> bool:
    """Delete every authenticator app of `user`, set up or half set up; whether one was
    set up (organizations.members.member_phone_reset tells the member so)."""
    devices = TOTPDevice.objects.filter(user=user)
    had_one = devices.filter(confirmed=True).exists()
    devices.delete()
    return had_one
