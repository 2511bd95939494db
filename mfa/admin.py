"""Django admin for support staff: SMS devices, authenticator apps, passkeys, recovery codes
and the log of text messages sent.

All are looked at, not edited: a number is set only through a verified code, and removed
only through member_phone_reset (the "Remove user phone" action), which also removes the
authenticator app and the recovery codes, ends the member's sessions, forgets their
browsers, tells them and records it. Recovery codes show how many are left, never a code
(only their hashes are kept, and not even those are shown).
"""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.admin import ReadOnlyAdmin, filter_titled
from mfa.device_names import device_name
from mfa.models import PasskeyDevice, RecoveryCodeDevice, SmsDevice, SmsMessage
from organizations.phone_reset_admin import DevicePhoneResetMixin


@admin.register(SmsDevice)
class SmsDeviceAdmin(DevicePhoneResetMixin, ReadOnlyAdmin):
    list_display = ["user", "number", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name", "number"]
    # Never the token (a hash of the current code) nor the throttling state.
    fields = ["user", "device_name", "number", "pending_number", "confirmed", "created_at",
              "last_used_at", "code_failures"]
    readonly_fields = ["device_name"]
    actions = ["remove_user_phone"]

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, device):
        return device_name(device)


@admin.register(RecoveryCodeDevice)
class RecoveryCodesAdmin(DevicePhoneResetMixin, ReadOnlyAdmin):
    list_display = ["user", "codes_left", "created_at", "last_used_at"]
    list_filter = ["created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name"]
    fields = ["user", "codes_left", "created_at", "last_used_at"]
    readonly_fields = ["codes_left"]
    actions = ["remove_user_phone"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(left=Count("codes"))

    @admin.display(description=_("Codes left"), ordering="left")
    def codes_left(self, device):
        return device.left


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "to", "user", "status", "error_code", "provider_id",
                    "ip_address"]
    list_filter = ["status", "created_at", ("user__memberships__organization",
                                            admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["to", "user__email", "provider_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["created_at", "to", "user", "ip_address", "status", "provider_id", "error_code"]


# django-otp's own admin shows the secret key and its QR code to staff: none of that here.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAppAdmin(ReadOnlyAdmin):
    """django-otp's model, whose fields have English names only: the columns, fields and
    filters here name them in the staff member's language."""

    list_display = ["owner", "app_name", "app_confirmed", "added", "last_used"]
    list_filter = [
        ("confirmed", filter_titled(admin.BooleanFieldListFilter, _("confirmed"))),
        ("created_at", filter_titled(admin.DateFieldListFilter, _("created at"))),
    ]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name"]
    fields = ["owner", "app_name", "app_confirmed", "added", "last_used", "wrong_codes",
              "last_wrong_code"]
    readonly_fields = fields

    @admin.display(description=_("user"), ordering="user__email")
    def owner(self, device):
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def app_name(self, device):
        return device_name(device)

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def app_confirmed(self, device):
        return device.confirmed

    @admin.display(description=_("created at"), ordering="created_at")
    def added(self, device):
        return device.created_at

    @admin.display(description=_("last used at"), ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    @admin.display(description=_("wrong codes in a row"))
    def wrong_codes(self, device):
        return device.throttling_failure_count

    @admin.display(description=_("last wrong code at"))
    def last_wrong_code(self, device):
        return device.throttling_failure_timestamp


@admin.register(PasskeyDevice)
class PasskeyAdmin(DevicePhoneResetMixin, ReadOnlyAdmin):
    """A member's passkeys, looked at only: members add and remove them in personal settings."""

    list_display = ["user", "name", "created_at", "last_used_at", "sign_count"]
    list_filter = ["created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__full_name", "name"]
    # The public key and the ids are no secret, but of no use to support either.
    fields = ["user", "name", "created_at", "last_used_at", "sign_count", "transports"]
    actions = ["remove_user_phone"]
