"""Accounts' data and its small invariants.

What "pending" means for an invitation lives here, once: Invitation.objects.pending(),
.expired() and .unused(), and Invitation.state for one already loaded. The one spelling of
an email is normalize_email; of a domain, accounts.domains.domain_to_ascii.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.db.models.query import MAX_GET_RESULTS
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

# domain_to_ascii is also read from here by organizations' migration 0003.
from accounts.domains import domain_to_ascii
from core.compiled import columns, compiled_select, model_from_row
from core.queries import first_or_none
from organizations.models import Membership


def new_security_stamp() -> str:
    return secrets.token_hex(16)


def normalize_email(email: str) -> str:
    """The one spelling of an email that we store and look up: trimmed, lower case, and an
    international domain in its xn-- form, so that both ways of typing it find the account."""
    email = (email or "").strip()
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email.lower()
    # A domain that is no domain stays as typed: validation says so, and it matches nothing.
    return f"{local.lower()}@{domain_to_ascii(domain) or domain.lower()}"


def token_hash(token: str) -> str:
    """Tokens sent to people are stored only as their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        """self.get(email=...), as ModelBackend asks at each password check, with the query
        compiled (user_by_pk's comment) and get()'s exceptions."""
        email = normalize_email(email)
        if self.model is not User or self._db is not None:
            # A migration's historical model, or another database: the ORM's own query.
            return self.get(email=email)
        rows = _user_by_email.all(email=email)
        if len(rows) == 1:
            return model_from_row(User, rows[0])
        if not rows:
            raise User.DoesNotExist("User matching query does not exist.")
        return self.get(email=email)  # raises MultipleObjectsReturned, worded by the ORM

    def create_user(self, email, password=None, **fields):
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    # Stored lower-cased (save), and the constraint below holds even for writes that skip save.
    email = models.EmailField(_("email"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    is_staff = models.BooleanField(
        _("support staff"), default=False, help_text=_("Support staff: may use Django admin.")
    )
    is_active = models.BooleanField(
        _("active"), default=True,
        help_text=_("Unticked: the account cannot sign in, and its sessions end."),
    )
    # Blank: the browser's (accounts.languages). Pages, emails and text messages use it.
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES,
        help_text=_("Blank: the browser's language."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Mixed into the session auth hash: changing it ends every session of the person at once.
    security_stamp = models.CharField(
        _("security stamp"), max_length=32, default=new_security_stamp, editable=False
    )
    # Wrong passwords in a row (accounts.password_lock): the count, the last one, and when the
    # count reached PASSWORD_FAILURES_IN_A_ROW and the password stopped working.
    password_failures = models.PositiveIntegerField(
        _("wrong passwords in a row"), default=0, editable=False
    )
    password_failed_at = models.DateTimeField(
        _("last wrong password at"), null=True, blank=True, editable=False
    )
    password_locked_at = models.DateTimeField(
        _("password locked at"), null=True, blank=True, editable=False,
        help_text=_("Set after too many wrong passwords in a row: the password does not work "
        "until the member resets it by email or support unlocks it."),
    )
    # Sessions signed in before this moment other than through enterprise login are over
    # (accounts.services.user_sessions_end with keep_enterprise_login; read by
    # accounts.session_lifetime and accounts.signin): set when the person's organization
    # makes enterprise login mandatory.
    password_sessions_ended_at = models.DateTimeField(
        _("password sessions ended at"), null=True, blank=True, editable=False
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def initials(self) -> str:
        words = self.full_name.split() or [self.email]
        return "".join(word[0] for word in words[:2]).upper()

    def _get_session_auth_hash(self, secret=None):
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.security_stamp}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()



# The member by id (each signed-in request, accounts.backends.get_user; each step of a
# sign-in under way, accounts.signin.signin_pending) and by email (each password check), built
# once per connection (core.compiled): the ORM took ten times longer to build these queries
# than the database took to answer them.
def _users(**lookup):
    return User._default_manager.filter(**lookup).values_list(*columns(User))


_user_by_pk = compiled_select(lambda pk: _users(pk=pk)[:1], pk=int)
# get()'s query: no ordering, at most MAX_GET_RESULTS rows.
_user_by_email = compiled_select(
    lambda email: _users(email=email).order_by()[:MAX_GET_RESULTS], email=str
)


def user_by_pk(pk) -> User | None:
    """first_or_none(User._default_manager.filter(pk=pk)), active or not."""
    if type(pk) is not int:
        # A value the ORM converts (or refuses) first; a compiled query takes it as it is.
        return first_or_none(User._default_manager.filter(pk=pk))
    row = _user_by_pk.first(pk=pk)
    return model_from_row(User, row) if row else None

class InvitationQuerySet(models.QuerySet):
    """What "pending" means, in one place: neither accepted nor revoked, and not expired.

    Invitation.state says the same of one invitation already loaded."""

    def unused(self):
        """Neither accepted nor revoked, expired or not: the ones a resend can revive."""
        return self.filter(accepted_at=None, revoked_at=None)

    def pending(self):
        return self.unused().filter(expires_at__gt=timezone.now())

    def expired(self):
        return self.unused().filter(expires_at__lte=timezone.now())


class Invitation(models.Model):
    email = models.EmailField(_("email"), max_length=254)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="invitations",
        verbose_name=_("organization"),
    )
    role = models.CharField(
        _("role"), max_length=16, choices=Membership.Role.choices,
        default=Membership.Role.MEMBER,
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("invited by"),
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    # The language of the invitation email (and of a resent one), chosen on the invite form.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self):
        return f"{self.email} → {self.organization}"

    @property
    def state(self) -> str:
        """"accepted", "revoked", "expired" or "pending", as InvitationQuerySet reads them."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "pending" if self.expires_at > timezone.now() else "expired"


class SecurityEvent(models.Model):
    """An append-only audit record: who did what to whom, when, from where."""

    class Kind(models.TextChoices):
        INVITATION_SENT = "invitation.sent", _("Invitation sent")
        INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
        ACCOUNT_CREATED = "account.created", _("Account created")
        MEMBERSHIP_ADDED = "membership.added", _("Membership added")
        SIGNIN_SUCCEEDED = "signin.succeeded", _("Signed in")
        SIGNIN_LOCKED = "signin.locked", _("Sign-in locked out")
        PASSWORD_LOCKED = "account.password_locked", _("Password locked")
        PASSWORD_UNLOCKED = "account.password_unlocked", _("Password unlocked")
        CODE_FAILED = "mfa.code_failed", _("Wrong code")
        PHONE_SET = "mfa.phone_set", _("Phone set")
        PHONE_CHANGED = "mfa.phone_changed", _("Phone changed")
        PHONE_REMOVED = "mfa.phone_removed", _("Phone removed")
        AUTHENTICATOR_SET = "mfa.authenticator_set", _("Authenticator app set")
        AUTHENTICATOR_REMOVED = "mfa.authenticator_removed", _("Authenticator app removed")
        PASSKEY_ADDED = "mfa.passkey_added", _("Passkey added")
        PASSKEY_REMOVED = "mfa.passkey_removed", _("Passkey removed")
        PASSKEY_FAILED = "mfa.passkey_failed", _("Passkey refused")
        RECOVERY_CODES_CREATED = "mfa.recovery_codes_created", _("Recovery codes created")
        RECOVERY_CODE_USED = "mfa.recovery_code_used", _("Recovery code used")
        SMS_FALLBACK_OFF = "mfa.sms_fallback_off", _("Text message fallback turned off")
        SMS_FALLBACK_ON = "mfa.sms_fallback_on", _("Text message fallback turned on")
        BROWSER_REMEMBERED = "mfa.browser_remembered", _("Browser remembered")
        BROWSER_FORGOTTEN = "mfa.browser_forgotten", _("Browser forgotten")
        PASSWORD_CHANGED = "account.password_changed", _("Password changed")
        SESSIONS_ENDED = "account.sessions_ended", _("All sessions ended")
        EMAIL_CHANGED = "account.email_changed", _("Email changed")
        ROLE_CHANGED = "membership.role_changed", _("Role changed")
        MEMBER_REMOVED = "membership.removed", _("Member removed")
        SSO_SIGNIN = "sso.signin", _("Signed in with enterprise login")
        SSO_REFUSED = "sso.refused", _("Enterprise login refused")

    kind = models.CharField(_("event"), max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("by"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="security_events", verbose_name=_("about"),
    )
    organization = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="security_events", verbose_name=_("organization"),
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    detail = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return _("%(event)s at %(at)s") % {
            "event": self.get_kind_display(), "at": f"{self.created_at:%Y-%m-%d %H:%M}",
        }

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Security events are append-only.")
        super().save(*args, **kwargs)


class PasswordResetRequest(models.Model):
    """One "Forgot password?" request that got past the limits (accounts.password_reset).

    Counted per email and per client IP over the last hour; kept whether or not the email
    has an account, so that the limits (and the work done) do not depend on it.
    """

    email = models.EmailField(_("email"), max_length=254)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")
        indexes = [
            models.Index(fields=["email", "created_at"]),
            models.Index(fields=["ip_address", "created_at"]),
        ]

    def __str__(self):
        return _("Password reset for %(email)s at %(at)s") % {
            "email": self.email, "at": f"{self.created_at:%Y-%m-%d %H:%M}",
        }
