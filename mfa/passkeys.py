"""Passkeys (WebAuthn): adding one in personal settings, and signing in with one, either as
the second factor after the password or on its own ("Sign in with a passkey"), and giving
the second factor again before Django admin (the step-up of a remembered browser's session).

Built on py_webauthn (`webauthn`), which checks the ceremonies (challenge, origin, RP ID
hash, flags, signature, sign counter), under our own django-otp device, mfa.models.
PasskeyDevice, as the phone and the app are django-otp devices. We chose it over
django-otp-webauthn because the sign-in here is our own stages (accounts.signin), not a
login view to plug into: py_webauthn leaves the pages, the session state and the one
small script (static/js/passkeys.js) to us, with no JavaScript framework and no URLs or
templates of its own to keep in line with ours.

The relying party is SITE_URL: its host is the RP ID and scheme://host[:port] the one
origin accepted. Each ceremony's challenge is kept in the session for one purpose and taken
out at the first answer, right or wrong, so a challenge is good for one answer only.
"""

import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.emails import send_email
from accounts.events import security_event_record
from accounts.models import SecurityEvent, User
from core.errors import ApplicationError
from mfa.models import PasskeyDevice

RP_NAME = "Backstage"
CHALLENGE_KEY = "passkey_challenge"
# How long the browser's dialog may stay open; the challenge lives a little longer.
CEREMONY_TIMEOUT = timedelta(minutes=3)
CHALLENGE_VALID_FOR = timedelta(minutes=5)
NAME_MAX_LENGTH = 64


class Purpose:
    """What a challenge was issued for: an answer is only accepted for the same purpose."""

    REGISTER = "register"
    SECOND_FACTOR = "second_factor"
    # The second factor asked again in a session already signed in (mfa.views.step_up):
    # its own purpose, so that a sign-in's challenge never answers it, nor it a sign-in's.
    STEP_UP = "step_up"
    PASSWORDLESS = "passwordless"


def _authentication_purpose(user: User | None, *, step_up: bool) -> str:
    if step_up:
        if user is None:
            raise ValueError("A step-up is for the member signed in.")
        return Purpose.STEP_UP
    return Purpose.SECOND_FACTOR if user else Purpose.PASSWORDLESS


class PasskeyError(ApplicationError):
    """A passkey not accepted; `message` is shown to the person."""

    messages = {
        "expired": _("This passkey request has expired or was already used. Try again."),
        "invalid": _("Your passkey couldn't be checked, so it wasn't accepted. Try again."),
        "unknown": _("This passkey isn't one of the passkeys of your Backstage account."),
        "unknown_passwordless": _("This passkey isn't known to Backstage. Sign in with your "
                                  "email and password instead."),
        "duplicate": _("This passkey is already on your account."),
    }

    def __init__(self, code: str):
        super().__init__(self.messages[code], code=code)


def relying_party() -> tuple[str, str]:
    """The RP ID and the origin, both from SITE_URL ("https://backstage.example.com")."""
    url = urlsplit(settings.SITE_URL)
    return url.hostname, f"{url.scheme}://{url.netloc}".lower()


# Challenges ------------------------------------------------------------------------------


def _challenge_issue(session, *, purpose: str, user_id: int | None, **kept) -> bytes:
    challenge = secrets.token_bytes(32)
    session[CHALLENGE_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user_id": user_id,
        "issued_at": timezone.now().isoformat(),
        **kept,
    }
    return challenge


def _challenge_take(session, *, purpose: str, user_id: int | None) -> dict:
    """The challenge issued to this session for `purpose` (and member), removed so that it
    answers once; PasskeyError("expired") if there is none, it is stale or for another.
    The bytes are under "challenge"; what the issuer kept with it, under its own names."""
    data = session.pop(CHALLENGE_KEY, None)
    if (
        not isinstance(data, dict)
        or data.get("purpose") != purpose
        or data.get("user_id") != user_id
        or timezone.now() - datetime.fromisoformat(data["issued_at"]) > CHALLENGE_VALID_FOR
    ):
        raise PasskeyError("expired")
    return {**data, "challenge": base64url_to_bytes(data["challenge"])}


# Reading -------------------------------------------------------------------------------------


def passkeys_of(user):
    """The member's passkeys. `user`: a member, their id, or an OuterRef to one (mfa.factors
    asks it in a subquery)."""
    return PasskeyDevice.objects.filter(user=user)


def passkey_set_up(user) -> bool:
    """Whether the member has a passkey: every password sign-in asks, so the cheapest query."""
    return passkeys_of(user).exists()


def passkeys_list(user) -> list[PasskeyDevice]:
    return list(PasskeyDevice.objects.filter(user=user))


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for credential_id, transports in PasskeyDevice.objects.filter(user=user).values_list(
        "credential_id", "transports"
    ):
        known = [AuthenticatorTransport(t) for t in transports if t in _TRANSPORTS]
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(credential_id), transports=known or None
            )
        )
    return descriptors


_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


def _credential(raw: str) -> dict:
    """The browser's answer as posted (JSON); PasskeyError("invalid") if it is none."""
    try:
        credential = json.loads(raw)
    except ValueError:
        raise PasskeyError("invalid") from None
    if (
        not isinstance(credential, dict)
        or not isinstance(credential.get("id"), str)
        or not isinstance(credential.get("response"), dict)
    ):
        raise PasskeyError("invalid")
    return credential


# Registration -------------------------------------------------------------------------------


def _user_handle(user) -> str:
    existing = PasskeyDevice.objects.filter(user=user).values_list("user_handle", flat=True)
    return existing.first() or bytes_to_base64url(secrets.token_bytes(32))


def registration_options(*, user: User, session) -> str:
    """The options for navigator.credentials.create(), as JSON, with a new challenge."""
    rp_id, _ = relying_party()
    user_handle = _user_handle(user)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=base64url_to_bytes(user_handle),
        user_name=user.email,
        user_display_name=user.full_name or user.email,
        # The handle is kept with the challenge: a new one must be stored as it was offered.
        challenge=_challenge_issue(
            session, purpose=Purpose.REGISTER, user_id=user.pk, user_handle=user_handle
        ),
        timeout=int(CEREMONY_TIMEOUT.total_seconds() * 1000),
        # Discoverable, so that the same passkey also signs in with no password; the user
        # verification that this needs is asked for at that sign-in.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        # The browser refuses an authenticator that already holds one of these.
        exclude_credentials=_descriptors(user),
    )
    return options_to_json(options)


def _changed_email(user: User, *, device: PasskeyDevice, added: bool) -> None:
    context = {
        "user": user,
        "added": added,
        "name": device.name,
        "changed_at": timezone.now(),
        "reset_url": settings.SITE_URL + reverse("accounts:password-reset"),
    }
    # Stored with the change (accounts.emails.send_email): both are kept, or neither.
    send_email(to=user.email, template="passkey_changed", context=context, language=user.language)


def passkey_register(
    *, user: User, session, credential: str, name: str, ip: str | None, user_agent: str
) -> PasskeyDevice:
    """Add the passkey that the browser created (`credential`, its JSON) to `user`'s account.

    The challenge is taken first, so a refused answer cannot be tried again.
    """
    issued = _challenge_take(session, purpose=Purpose.REGISTER, user_id=user.pk)
    rp_id, origin = relying_party()
    answer = _credential(credential)
    try:
        verified = verify_registration_response(
            credential=answer,
            expected_challenge=issued["challenge"],
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except WebAuthnException:
        raise PasskeyError("invalid") from None
    transports = answer.get("response", {}).get("transports") or []
    with transaction.atomic():
        # The member's row lock: two additions at once agree on one user handle.
        User.objects.select_for_update().filter(pk=user.pk).first()
        existing = PasskeyDevice.objects.filter(user=user).values_list("user_handle", flat=True)
        credential_id = bytes_to_base64url(verified.credential_id)
        if PasskeyDevice.objects.filter(credential_id=credential_id).exists():
            raise PasskeyError("duplicate")
        device = PasskeyDevice.objects.create(
            user=user,
            name=name[:NAME_MAX_LENGTH],
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[t for t in transports if t in _TRANSPORTS],
            user_handle=existing.first() or issued["user_handle"],
        )
        security_event_record(
            kind=SecurityEvent.Kind.PASSKEY_ADDED, ip=ip, user_agent=user_agent, actor=user,
            subject=user, passkey=device.name,
        )
        _changed_email(user, device=device, added=True)
    return device


@transaction.atomic
def passkey_rename(*, user: User, passkey_id: int, name: str) -> bool:
    """Give one of `user`'s passkeys a new name; False if they have no such passkey."""
    return bool(
        PasskeyDevice.objects.filter(pk=passkey_id, user=user).update(
            name=name[:NAME_MAX_LENGTH]
        )
    )


@transaction.atomic
def passkey_remove(*, user: User, passkey_id: int, ip: str | None, user_agent: str) -> bool:
    """Remove one of `user`'s passkeys at their request; False if they have no such passkey.

    Only the member's own rows: anybody else's id answers exactly like a missing one.
    """
    device = PasskeyDevice.objects.select_for_update().filter(pk=passkey_id, user=user).first()
    if device is None:
        return False
    device.delete()
    security_event_record(
        kind=SecurityEvent.Kind.PASSKEY_REMOVED, ip=ip, user_agent=user_agent, actor=user,
        subject=user, passkey=device.name,
    )
    _changed_email(user, device=device, added=False)
    return True


def passkeys_delete(*, user: User) -> int:
    """Delete every passkey of `user` (for a reset of all their second factors); how many."""
    deleted, _ = PasskeyDevice.objects.filter(user=user).delete()
    return deleted


# Authentication -----------------------------------------------------------------------------


def authentication_options(*, session, user: User | None, step_up: bool = False) -> str:
    """The options for navigator.credentials.get(), as JSON, with a new challenge.

    With `user` (after their password, or with `step_up` in their signed-in session):
    their passkeys only. Without (no password): any discoverable passkey for this site, and
    the authenticator must verify the person (fingerprint, face, PIN), since the passkey
    is then both factors.
    """
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=_challenge_issue(
            session,
            purpose=_authentication_purpose(user, step_up=step_up),
            user_id=user.pk if user else None,
        ),
        timeout=int(CEREMONY_TIMEOUT.total_seconds() * 1000),
        allow_credentials=_descriptors(user) if user else [],
        user_verification=UserVerificationRequirement.PREFERRED
        if user
        else UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options)


def _refused(device: PasskeyDevice, *, ip: str | None, user_agent: str, reason: str) -> None:
    security_event_record(
        kind=SecurityEvent.Kind.PASSKEY_FAILED, ip=ip, user_agent=user_agent,
        actor=device.user, subject=device.user, passkey=device.name, reason=reason,
    )


def passkey_authenticate(
    *, session, credential: str, user: User | None, ip: str | None, user_agent: str,
    step_up: bool = False,
) -> PasskeyDevice:
    """The passkey that signed this session's challenge (`credential`, the browser's JSON).

    With `user` (the second factor after their password, or with `step_up` in their
    signed-in session), only one of their passkeys is accepted, for a challenge issued for
    the same; without (no password), any member's, if the authenticator verified the
    person. The sign counter must go up when the authenticator keeps one (a cloned
    passkey would repeat a count); the device row is locked while it is checked and moved.
    """
    challenge = _challenge_take(
        session,
        purpose=_authentication_purpose(user, step_up=step_up),
        user_id=user.pk if user else None,
    )["challenge"]
    answer = _credential(credential)
    with transaction.atomic():
        devices = (
            PasskeyDevice.objects.select_for_update()
            .select_related("user")
            .filter(user__is_active=True)
        )
        if user is not None:
            devices = devices.filter(user=user)
        device = devices.filter(credential_id=answer["id"]).first()
        if device is None:
            raise PasskeyError("unknown" if user else "unknown_passwordless")
        refusal = _assertion_check(device, answer, challenge=challenge, user=user)
        if refusal is None:
            device.last_used_at = timezone.now()
            device.save(update_fields=["sign_count", "last_used_at"])
            return device
    # Recorded outside the transaction that the refusal would otherwise leave empty-handed.
    _refused(device, ip=ip, user_agent=user_agent, reason=refusal)
    raise PasskeyError("invalid")


def _assertion_check(
    device: PasskeyDevice, answer: dict, *, challenge: bytes, user: User | None
) -> str | None:
    """None if `answer` is a good signature of `challenge` by `device` (whose sign_count
    then moves on); else the reason for the security event."""
    # The account the authenticator says it holds the passkey for must be its owner's.
    handle = answer.get("response", {}).get("userHandle")
    if handle and handle != device.user_handle:
        return "user_handle"
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=answer,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(device.public_key),
            credential_current_sign_count=device.sign_count,
            require_user_verification=user is None,
        )
    except WebAuthnException as error:
        # py_webauthn says "sign count" when the counter did not go up: a possible clone.
        return "sign_count" if "sign count" in str(error).lower() else "invalid"
    device.sign_count = verified.new_sign_count
    return None
