"""Django admin for support staff: people, invitations and the security log.

Every action goes through the functions that the pages use (STYLE habit 3), so it is
checked the same way and leaves the same security events: member_phone_reset,
user_sessions_end, invitation_create, invitation_resend, invitation_revoke. Accounts are
never added here (they come from invitations), and the security log cannot be edited.
"""

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminEmailInputWidget
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django_tasks_db.models import DBTaskResult

from accounts.form_fields import EmailAddressField
from accounts.invitations import (
    InvitationError,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from accounts.languages import recipient_language
from accounts.models import Invitation, SecurityEvent, User
from accounts.password_lock import password_unlock
from accounts.services import user_email_change, user_sessions_end
from core.admin import ReadOnlyAdmin, action_confirm
from core.http import client_of
from mfa.models import SmsDevice
from mfa.passkeys import passkeys_list
from mfa.recovery import recovery_codes_left
from mfa.trust import remembered_browsers_count
from organizations.models import Membership, Organization
from organizations.phone_reset_admin import (
    PHONE_RESET_EXPLANATION,
    PHONE_RESET_QUESTION,
    phone_reset_permitted,
    phones_reset,
)

# Users ---------------------------------------------------------------------------------------


def phone_search_digits(term: str) -> str:
    """The digits to look for in stored numbers (+41791234567) when `term` is a phone number
    as people write it ("079 123 45 67", "+41 79 123 45 67", "0041 79…"); else ""."""
    if not re.fullmatch(r"[\d\s+().\-/]+", term):
        return ""
    digits = re.sub(r"\D", "", term).lstrip("0")
    return digits if len(digits) >= 4 else ""


class UserAdminForm(forms.ModelForm):
    # The email as every other email field checks it (IDNA 2008, the column's length as
    # stored): a model EmailField's form field would let both through to the save.
    email = EmailAddressField(label=_("Email"), widget=AdminEmailInputWidget)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    list_display = ["email", "full_name", "is_staff", "phone_status", "last_login"]
    list_filter = [
        "is_staff", "is_active",
        ("memberships__organization", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["email", "full_name"]
    search_help_text = _("Search by email, name or phone number.")
    ordering = ["email"]
    actions = ["remove_user_phone", "end_all_sessions", "unlock_password"]
    filter_horizontal = ["groups", "user_permissions"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["email", "full_name"]}),
        (_("Second factor"), {"fields": ["phone", "passkeys", "recovery_codes",
                                         "remembered_browsers"]}),
        (_("Organizations"), {"fields": ["organizations"]}),
        (_("Access"), {"fields": ["is_active", "password_status", "is_staff", "is_superuser",
                                  "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    readonly_fields = ["phone", "passkeys", "recovery_codes", "remembered_browsers",
                       "organizations", "password_status",
                       "last_login", "date_joined"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            has_phone=Exists(SmsDevice.objects.on_file().filter(user=OuterRef("pk")))
        )

    def get_readonly_fields(self, request, obj=None):
        # Only superusers hand out access to admin itself.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def get_search_results(self, request, queryset, search_term):
        digits = phone_search_digits(search_term)
        if digits:
            return queryset.filter(smsdevice__number__contains=digits), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False  # accounts come from invitations (Invitations → Add)

    def save_model(self, request, obj, form, change):
        # A new email goes through user_email_change, which records it and tells both
        # addresses; the rest of the form is saved as usual (deactivating an account ends
        # its sessions wherever it is saved: accounts.deactivation).
        email = obj.email
        if change and "email" in form.changed_data:
            obj.email = form.initial["email"]
        super().save_model(request, obj, form, change)
        if email != obj.email:
            user_email_change(user=obj, email=email, actor=request.user, request=request)

    def has_phone_reset_permission(self, request):
        return phone_reset_permitted(request)

    def has_sessions_end_permission(self, request):
        return request.user.is_staff and self.has_change_permission(request)

    @admin.display(description=_("Phone"), ordering="has_phone")
    def phone_status(self, user):
        return _("Phone set") if user.has_phone else _("No phone")

    @admin.display(description=_("Phone"))
    def phone(self, user):
        device = SmsDevice.objects.on_file().filter(user=user).first()
        if device is None:
            return _("No phone")
        return str(device.number)

    @admin.display(description=_("Passkeys"))
    def passkeys(self, user):
        return format_html_join(
            "", _("<div>{} (added {}, last used {})</div>"),
            (
                (device.name, f"{device.created_at:%Y-%m-%d}",
                 f"{device.last_used_at:%Y-%m-%d}" if device.last_used_at else _("never"))
                for device in passkeys_list(user)
            ),
        ) or _("None")

    @admin.display(description=_("Recovery codes left"))
    def recovery_codes(self, user):
        # How many, never the codes (only their hashes are kept).
        return recovery_codes_left(user)

    @admin.display(description=_("Password"))
    def password_status(self, user):
        if user.password_locked_at is None:
            return _("Works")
        return _(
            "Locked on %(at)s (UTC) after %(failures)d wrong passwords in a row. Unlock "
            "password (an action of the list) or a new password through Forgot password? "
            "makes it work again."
        ) % {"at": f"{user.password_locked_at:%Y-%m-%d %H:%M}", "failures": user.password_failures}

    @admin.display(description=_("Remembered browsers"))
    def remembered_browsers(self, user):
        return remembered_browsers_count(user=user)

    @admin.display(description=_("Organizations"))
    def organizations(self, user):
        memberships = user.memberships.select_related("organization").order_by(
            "organization__name"
        )
        return format_html_join(
            "", "<div>{} ({})</div>",
            ((m.organization.name, m.get_role_display()) for m in memberships),
        ) or "—"

    @admin.action(description=_("Remove user phone"), permissions=["phone_reset"])
    def remove_user_phone(self, request, queryset):
        response = action_confirm(
            self, request, queryset, title=_("Remove user phone"),
            question=PHONE_RESET_QUESTION, explanation=PHONE_RESET_EXPLANATION,
            button=_("Remove user phone"),
        )
        if response is None:
            phones_reset(self, request, list(queryset))
        return response

    @admin.action(description=_("End all sessions"), permissions=["sessions_end"])
    def end_all_sessions(self, request, queryset):
        response = action_confirm(
            self, request, queryset, title=_("End all sessions"),
            question=_("End every session of these people?"),
            explanation=_("Each is signed out of every browser at once; their phone and "
                          "remembered browsers stay."),
            button=_("End all sessions"),
        )
        if response is None:
            users = list(queryset)
            for user in users:
                user_sessions_end(user=user, request=request, actor=request.user)
            self.message_user(
                request, ngettext(
                    "Ended every session of %(count)d person.",
                    "Ended every session of %(count)d people.", len(users),
                ) % {"count": len(users)}, messages.SUCCESS,
            )
        return response

    @admin.action(description=_("Unlock password"), permissions=["change"])
    def unlock_password(self, request, queryset):
        # For a member who cannot get at their email: the password they know works again.
        unlocked = [
            user for user in queryset
            if password_unlock(user=user, actor=request.user, **client_of(request))
        ]
        self.message_user(
            request, ngettext(
                "Unlocked the password of %(count)d person.",
                "Unlocked the password of %(count)d people.", len(unlocked),
            ) % {"count": len(unlocked)}, messages.SUCCESS,
        )


# Invitations ---------------------------------------------------------------------------------

# Invitation.state's values, as the list and its filter name them.
INVITATION_STATES = {
    "pending": pgettext_lazy("invitation", "Pending"),
    "accepted": pgettext_lazy("invitation", "Accepted"),
    "revoked": pgettext_lazy("invitation", "Revoked"),
    "expired": pgettext_lazy("invitation", "Expired"),
}


class InvitationAdminForm(forms.Form):
    email = EmailAddressField(label=_("Email"))
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.order_by("name")
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=settings.LANGUAGES, required=False,
        help_text=_("The language of the invitation email."),
    )


class InvitationStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return list(INVITATION_STATES.items())

    def queryset(self, request, queryset):
        match self.value():
            case "pending":
                return queryset.pending()
            case "expired":
                return queryset.expired()
            case "accepted":
                return queryset.exclude(accepted_at=None)
            case "revoked":
                return queryset.exclude(revoked_at=None)
        return queryset


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "invited_by", "created_at", "expires_at",
                    "state"]
    list_filter = [InvitationStateFilter, "role", "created_at", "organization"]
    list_select_related = ["organization", "invited_by"]
    search_fields = ["email", "organization__name"]
    date_hierarchy = "created_at"
    actions = ["resend_invitation", "revoke_invitation"]
    fields = ["email", "organization", "role", "invited_by", "created_at", "expires_at",
              "accepted_at", "revoked_at"]

    @admin.display(description=_("State"))
    def state(self, invitation):
        return INVITATION_STATES[invitation.state]

    # Seen, not edited: a link changes only by being resent or revoked (the actions).
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.is_staff and super().has_change_permission(request)

    def add_view(self, request, form_url="", extra_context=None):
        """Inviting goes through invitation_create, like the Members page: a token, an email,
        a security event, the same whether or not the address has an account."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = InvitationAdminForm(
            request.POST or None, initial={"language": recipient_language(request.user)}
        )
        if request.method == "POST" and form.is_valid():
            try:
                invitation_create(
                    email=form.cleaned_data["email"],
                    organization=form.cleaned_data["organization"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    **client_of(request),
                    language=form.cleaned_data["language"],
                )
            except InvitationError as error:
                form.add_error("email", error.message)
            else:
                self.message_user(
                    request, _("We've sent an invitation to %(email)s.")
                    % {"email": form.cleaned_data["email"]},
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_invitation_changelist")
        return TemplateResponse(request, "admin/accounts/invitation/invite.html", {
            **self.admin_site.each_context(request),
            "title": _("Invite someone"),
            "form": form,
            "opts": self.model._meta,
            **(extra_context or {}),
        })

    @admin.action(description=_("Resend invitation"), permissions=["resend"])
    def resend_invitation(self, request, queryset):
        for invitation in queryset.select_related("organization", "invited_by"):
            try:
                invitation_resend(
                    invitation=invitation, actor=request.user, **client_of(request)
                )
            except InvitationError as error:
                self.message_user(request, _("%(email)s: %(error)s") % {
                    "email": invitation.email, "error": error.message,
                }, messages.ERROR)
            else:
                self.message_user(request, _("We've sent a new invitation to %(email)s.")
                                  % {"email": invitation.email},
                                  messages.SUCCESS)

    @admin.action(description=_("Revoke invitation"), permissions=["resend"])
    def revoke_invitation(self, request, queryset):
        for invitation in queryset:
            try:
                invitation_revoke(
                    invitation=invitation, actor=request.user, **client_of(request)
                )
            except InvitationError as error:
                self.message_user(request, _("%(email)s: %(error)s") % {
                    "email": invitation.email, "error": error.message,
                }, messages.ERROR)
            else:
                self.message_user(request, _("The invitation to %(email)s was withdrawn.")
                                  % {"email": invitation.email},
                                  messages.SUCCESS)


# Security events -----------------------------------------------------------------------------


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "actor", "subject", "organization", "ip_address"]
    list_filter = ["kind", "created_at", "organization"]
    list_select_related = ["actor", "subject", "organization"]
    search_fields = ["actor__email", "subject__email"]
    search_help_text = _("Search by the email of who did it or of whom it was about.")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["created_at", "kind", "actor", "subject", "organization", "ip_address",
              "user_agent", "detail"]


# The email tasks' arguments hold the raw tokens of reset and invitation links (only their
# hashes are kept anywhere else), and django-tasks-db's own admin would show them to anyone
# with admin access: support staff have no use for the queue, so it is not in admin.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
