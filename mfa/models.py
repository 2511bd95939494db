"""The second factor's data: the SMS device, recovery codes, passkeys, remembered browsers
and the SMS log.

What "the member's phone" means lives here, once: SmsDevice.objects.on_file() (the verified
number), .reachable() (where sign-in codes go) and .changing() (a number waiting for its
code). Every rule about remembered browsers is in mfa.trust; every rule about passkeys
(the WebAuthn ceremonies) is in mfa.passkeys.
"""

import hmac
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import (
    CooldownMixin,
    Device,
    DeviceManager,
    GenerateNotAllowed,
    SideChannelDevice,
    ThrottlingMixin,
)
from phonenumber_field.modelfields import PhoneNumberField

from core.compiled import compiled_update, saved
from core.limits import limit
from mfa.device_names import device_str


def resend_cooldown_since(now: datetime) -> datetime:
    """The cooldown between two codes, its one rule: a device may be sent a new code when
    it has none or its last one was made before this moment, MFA_RESEND_COOLDOWN ago
    (exactly that long ago is still too soon).

    The database applies it as it updates the row (SmsDeviceQuerySet.resend_allowed, the
    one UPDATE of mfa.codes.code_send); the pages' countdown reads it in Python
    (SmsDevice.generate_is_allowed). Both compare with this moment, so they cannot disagree.
    """
    return now - settings.MFA_RESEND_COOLDOWN


def stored_number(number) -> str:
    """A phone number (PhoneNumber or text) as the device's number columns hold it, and as
    the ORM compares them with it: for the compiled statements, which take values as the
    database does."""
    return SmsDevice._meta.get_field("number").get_prep_value(number)


class SmsDeviceQuerySet(models.QuerySet):
    """The three things "the member's phone" can mean, each in one place."""

    def on_file(self):
        """A verified number: the phone on file, the one that counts as enrolled."""
        return self.filter(confirmed=True)

    def reachable(self):
        """A number that sign-in codes can go to: the one on file or, while enrolling, the
        one waiting for its first code."""
        return self.filter(models.Q(confirmed=True) | ~models.Q(pending_number=""))

    def resend_allowed(self, *, since):
        """Devices past the cooldown between two codes, `since` being
        resend_cooldown_since(now), as a condition that the database checks on the row as
        it updates it (mfa.codes.code_send). The moment rather than `now`: it is a value of
        the compiled UPDATE (mfa.codes._code_make), which takes values as they are."""
        return self.filter(
            models.Q(last_generated_timestamp__isnull=True)
            | models.Q(last_generated_timestamp__lt=since)
        )

    def changing(self):
        """A new number waiting for its code (first enrollment or a change)."""
        return self.exclude(pending_number="")


class DeviceFields(models.Model):
    """django-otp's Device fields as it declares them, with labels to translate: each device
    of ours takes these first among its bases, so admin names them in the staff member's
    language; and its __str__, which names the device as mfa.device_names says."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=64)
    confirmed = models.BooleanField(_("confirmed"), default=True)

    class Meta:
        abstract = True

    def __str__(self):
        # django-otp's "name (user)", with the names we give in the reader's language.
        return device_str(self)


class SmsDevice(DeviceFields, ThrottlingMixin, CooldownMixin, SideChannelDevice):
    """A member's mobile phone, the one SMS device they may have.

    `number` is the verified number; `pending_number` is one that is waiting for its
    code (first enrollment or a change), and becomes `number` only once verified.
    `token` holds a keyed hash of the current code and the sign-in attempt it was sent
    for (mfa.codes), never the code itself.
    """

    # django-otp keeps "no code" as NULL.
    token = models.CharField(  # noqa: DJ001
        _("current code (keyed hash)"), max_length=64, blank=True, null=True
    )
    number = PhoneNumberField(_("number"), blank=True)
    pending_number = PhoneNumberField(
        _("new number"), blank=True, help_text=_("A number waiting for its code.")
    )
    code_failures = models.PositiveSmallIntegerField(
        _("wrong codes"), default=0, help_text=_("Wrong tries against the current code.")
    )
    # Off: sign-ins never send a code to this phone while the member has a strong factor
    # (mfa.factors.sms_signin_allowed); the number stays on file for an admin's reset.
    sms_fallback = models.BooleanField(
        _("text message fallback"), default=True,
        help_text=_("Whether a sign-in may use a text message instead of a stronger factor."),
    )
    # Which sign-in attempt (or phone change) the current code was sent for, as a keyed
    # hash (mfa.codes.attempt_key), and its wrong codes so far, across its resends.
    attempt_key = models.CharField(
        _("sign-in attempt (keyed hash)"), max_length=64, blank=True, editable=False
    )
    attempt_failures = models.PositiveSmallIntegerField(
        _("wrong codes of the attempt"), default=0,
        help_text=_("Wrong tries of the sign-in attempt that the current code is for."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # django-otp's SideChannelDevice, CooldownMixin and ThrottlingMixin fields as they declare
    # them, with labels to translate.
    valid_until = models.DateTimeField(_("code valid until"), default=timezone.now)
    last_generated_timestamp = models.DateTimeField(_("last code sent at"), null=True, blank=True)
    throttling_failure_timestamp = models.DateTimeField(
        _("last wrong code at"), null=True, blank=True, default=None
    )
    throttling_failure_count = models.PositiveIntegerField(_("wrong codes in a row"), default=0)

    # django-otp's manager (devices_for_user), with the queries above.
    objects = DeviceManager.from_queryset(SmsDeviceQuerySet)()

    class Meta:
        verbose_name = _("SMS device")
        verbose_name_plural = _("SMS devices")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="one_sms_device_per_user"),
        ]


    def get_throttle_factor(self):
        return settings.MFA_THROTTLE_FACTOR

    def get_cooldown_duration(self):
        # Only django-otp's cooldown_enabled reads it now: generate_is_allowed is ours.
        return settings.MFA_RESEND_COOLDOWN.total_seconds()

    def generate_is_allowed(self):
        """django-otp's question (may a new code be made?), answered by the rule that the
        send's UPDATE applies (resend_cooldown_since) rather than by CooldownMixin's own
        copy of it."""
        now = timezone.now()
        since = resend_cooldown_since(now)
        last = self.last_generated_timestamp
        if last is None or last < since:
            return True, None
        return False, {
            "reason": GenerateNotAllowed.COOLDOWN_DURATION_PENDING,
            "next_generation_at": now + (last - since),
        }

    def wrong_codes_capped_until(self, now) -> datetime | None:
        """When the member's cap on wrong codes in a row (SMS_CODE_FAILURES_PER_USER) lifts,
        or None while it does not hold; the count starts again once its window has passed."""
        cap = limit("SMS_CODE_FAILURES_PER_USER")
        last_failure = self.throttling_failure_timestamp
        if last_failure is None or last_failure <= cap.since(now):
            return None
        return last_failure + cap.window if cap.reached(self.throttling_failure_count) else None

    def code_check(self, *, attempt_key: str, token: str) -> tuple[str, object]:
        """Accept `token` (the keyed hash of code and attempt) once, before it expires, for
        the sign-in attempt (or phone change) whose keyed hash is `attempt_key`.

        The caller holds the row lock (mfa.codes.code_verify); this saves. Returns
        ("ok", None), ("limit", until), ("throttled", until) or ("other_attempt" | "no_code"
        | "expired" | "wrong", None).

        A wrong code of the attempt the code was sent for counts three times: against this
        code, which dies after MFA_CODE_MAX_FAILURES; against the attempt, whose back-off
        (MFA_THROTTLE_FACTOR seconds, doubling) a new code for it does not reset; and against
        the member, whose wrong codes in a row (throttling_failure_count) stop every code
        at SMS_CODE_FAILURES_PER_USER, whatever the attempt and however many resends. A code
        typed into another attempt (another session of the member) cannot be right and
        counts for nothing: it neither kills the member's code nor slows their attempt.
        """
        now = timezone.now()
        cap = limit("SMS_CODE_FAILURES_PER_USER")
        last_failure = self.throttling_failure_timestamp
        if last_failure is not None and last_failure <= cap.since(now):
            # The last wrong code is older than the window: the count starts again.
            self.throttling_failure_count, last_failure = 0, None
        capped_until = self.wrong_codes_capped_until(now)
        if capped_until is not None:
            return "limit", capped_until
        if not self.token or not constant_time_compare(attempt_key, self.attempt_key):
            return ("other_attempt" if self.token else "no_code"), None
        if self.attempt_failures and last_failure is not None:
            until = last_failure + timedelta(
                seconds=settings.MFA_THROTTLE_FACTOR * 2 ** (self.attempt_failures - 1)
            )
            if now < until:
                return "throttled", until
        if now >= self.valid_until:
            return "expired", None
        if constant_time_compare(token, self.token):
            self.token = None
            self.valid_until = now
            self.code_failures = self.attempt_failures = 0
            self.last_used_at = now
            self.throttle_reset(commit=False)
            self.cooldown_reset(commit=False)
            saved(SmsDevice, _code_used(pk=self.pk, now=now))
            return "ok", None
        self.throttling_failure_count += 1
        self.throttling_failure_timestamp = now
        self.attempt_failures += 1
        self.code_failures += 1
        if self.code_failures >= settings.MFA_CODE_MAX_FAILURES:
            self.token = None
        counts = {
            "pk": self.pk, "now": now, "count": self.throttling_failure_count,
            "attempt_failures": self.attempt_failures, "code_failures": self.code_failures,
        }
        if self.token is None:
            saved(SmsDevice, _code_wrong_last(**counts))
        else:
            saved(SmsDevice, _code_wrong(**counts, token=self.token))
        return "wrong", None


# code_check's writes: only the columns it changes, so that it cannot write back a column
# that another request changed meanwhile; each as the instance holds it after the check
# (tests/mfa/test_code_attempts.py reads the row back). Compiled updates (core.compiled)
# rather than save(update_fields=...), which spent several times longer building its
# UPDATE than the database took to run it; nobody listens to SmsDevice's saves (no
# pre_save or post_save receiver, ours or django-otp's), so none is missed.


def _code_used_query(pk, now):
    # The right code: used up, and the counts and the cooldown reset (code_check's
    # throttle_reset() and cooldown_reset()).
    return SmsDevice.objects.filter(pk=pk), {
        "token": None, "code_failures": 0, "attempt_failures": 0,
        "valid_until": now, "last_used_at": now,
        "throttling_failure_count": 0, "throttling_failure_timestamp": None,
        "last_generated_timestamp": None,
    }


def _code_wrong_query(*, last: bool):
    def build(pk, now, count, attempt_failures, code_failures, token=None):
        changes = {
            "throttling_failure_count": count, "throttling_failure_timestamp": now,
            "attempt_failures": attempt_failures, "code_failures": code_failures,
            # The code's last wrong try (MFA_CODE_MAX_FAILURES) kills it: NULL, a constant
            # of that UPDATE, as a compiled query takes no None.
            "token": None if last else token,
        }
        return SmsDevice.objects.filter(pk=pk), changes

    kinds = {"pk": int, "now": datetime, "count": int, "attempt_failures": int,
             "code_failures": int}
    return compiled_update(build, **kinds, **({} if last else {"token": str}))


_code_used = compiled_update(_code_used_query, pk=int, now=datetime)
_code_wrong = _code_wrong_query(last=False)
_code_wrong_last = _code_wrong_query(last=True)


def recovery_code_digest(code: str, *, secret: str | None = None) -> str:
    """The keyed hash kept of a recovery code (normalized, mfa.recovery); never the code."""
    return salted_hmac("mfa.recovery_code", code, secret=secret, algorithm="sha256").hexdigest()


class RecoveryCodeDevice(DeviceFields, Device):
    """A member's recovery codes (mfa.recovery explains why this model and not otp_static's).

    A django-otp device, so that a sign-in with a code is verified, locked and logged in
    (django_otp.login) like one with the phone or the app; its codes are RecoveryCode rows
    holding keyed hashes. Wrong codes count against the member's phone (its ThrottlingMixin),
    the one per-account limit that wrong SMS codes count against too.
    """

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = DeviceManager()

    class Meta:
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user"], name="one_recovery_code_device_per_user"),
        ]

    def verify_is_allowed(self):
        """The member's cap on wrong codes, kept on the phone, decides: wrong recovery codes
        and SMS codes share it (mfa.codes.code_throttle_check)."""
        phone = SmsDevice.objects.filter(user_id=self.user_id).first()
        if phone is None:
            # Never the case (codes need a phone, a reset removes both): refuse, not allow.
            return False, {"reason": "no_phone"}
        capped_until = phone.wrong_codes_capped_until(timezone.now())
        if capped_until is not None:
            return False, {"reason": "limit", "locked_until": capped_until}
        return True, None

    def verify_token(self, token):
        """Accept `token` (a normalized recovery code) once: its row is deleted.

        Compares with every remaining code in constant time, against hashes made with the
        current SECRET_KEY and its fallbacks. The caller holds this device's row lock
        (django_otp.verify_token), so of two requests with one code exactly one wins.
        """
        phone = SmsDevice.objects.select_for_update().filter(user_id=self.user_id).first()
        if phone is None or phone.wrong_codes_capped_until(timezone.now()) is not None:
            return False
        candidates = [
            recovery_code_digest(token, secret=secret)
            for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        ]
        match = None
        # No early exit: the time taken does not tell which code, if any, matched.
        for code in self.codes.select_for_update().order_by("pk"):
            for candidate in candidates:
                if hmac.compare_digest(code.digest, candidate):
                    match = code
        if match is None:
            phone.throttle_increment()
            return False
        match.delete()
        phone.throttle_reset()
        self.last_used_at = timezone.now()
        self.save(update_fields=["last_used_at"])
        return True


class RecoveryCode(models.Model):
    """One unused recovery code, as its keyed hash (recovery_code_digest)."""

    device = models.ForeignKey(
        RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes",
        verbose_name=_("device"),
    )
    digest = models.CharField(_("keyed hash"), max_length=64)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self):
        return _("Recovery code of %(user)s") % {"user": self.device.user}


class PasskeyDevice(DeviceFields, Device):
    """One passkey (a WebAuthn credential) of a member; mfa.passkeys runs its ceremonies.

    A django-otp device like the phone and the app, so that django_otp.login records it
    as the session's second factor. `credential_id` and `user_handle` are base64url, as
    the browser sends them; `public_key` is the COSE key that py_webauthn returned at
    registration. Nothing here is secret: the private key never leaves the authenticator.
    """

    credential_id = models.CharField(_("credential ID"), max_length=1400, unique=True)
    public_key = models.BinaryField(_("public key"))
    # The authenticator's counter at the last use; many passkeys (synced ones) always say 0.
    sign_count = models.PositiveBigIntegerField(_("sign count"), default=0)
    transports = models.JSONField(_("transports"), default=list, blank=True)
    # The opaque id that the authenticator keeps for the account (never the email or pk):
    # the same for all of one member's passkeys, so that a new one replaces an old one
    # for this site on the same authenticator rather than sitting beside it.
    user_handle = models.CharField(_("user handle"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        ordering = ["created_at", "pk"]


class RememberedBrowser(models.Model):
    """One browser allowed to skip the SMS step until `expires_at` (not sliding)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="remembered_browsers",
        verbose_name=_("user"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), default=timezone.now)
    last_ip = models.GenericIPAddressField(_("last IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("remembered browser")
        verbose_name_plural = _("remembered browsers")
        ordering = ["-last_used_at"]

    def __str__(self):
        return _("%(user)s until %(date)s") % {
            "user": self.user, "date": f"{self.expires_at:%Y-%m-%d}",
        }


class SmsMessage(models.Model):
    """Every SMS we tried to send: to whom, what came of it. Never the text (it holds a code)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    # The statuses a delivery report may move a sent message from (mfa.webhooks): only
    # forward, so a late or replayed report never undoes a later one. Failed is last:
    # the provider's reports can arrive out of order, and with failed winning over
    # delivered the outcome is the same whatever the order; a wrong "failed" costs the
    # person a needless "Send again", a hidden one leaves them waiting for a code.
    REPORTED_FROM = {
        Status.DELIVERED: [Status.SENT],
        Status.FAILED: [Status.SENT, Status.DELIVERED],
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sms_messages",
        verbose_name=_("user"),
    )
    to = PhoneNumberField(_("to"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    provider_id = models.CharField(_("provider's message ID"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["to", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
            models.Index(fields=["user", "created_at"]),
        ]

    def __str__(self):
        return _("SMS to %(to)s (%(status)s)") % {
            "to": self.to, "status": self.get_status_display(),
        }


class SmsLimitKey(models.Model):
    """One row per thing that text messages are limited for ("number:+41791234567",
    "block:+417912345", "ip:192.0.2.1", "user:7"), locked while a send is counted.

    mfa.sending counts SmsMessage rows; two sends sharing a number, a block or an IP lock the
    same key first, so the second counts after the first has written its row, and a limit is
    never overshot however many requests race (PostgreSQL row locks; SQLite serializes
    writes anyway).
    """

    key = models.CharField(_("key"), max_length=80, unique=True)
    # The newest send that counted for this key (its SmsMessage is made at the same moment):
    # a key unused for longer than the longest window counts nothing any more, and
    # mfa.sending.sms_limit_keys_prune deletes it. No index: the prune is a rare scan, and
    # without one PostgreSQL can update the row in place on every send.
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)

    class Meta:
        verbose_name = _("SMS limit key")
        verbose_name_plural = _("SMS limit keys")

    def __str__(self):
        return self.key
