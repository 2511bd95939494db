"""The "Remove user phone" action of Django admin, shared by the user and device admins
(accounts.admin, mfa.admin): who sees it, its question and explanation, and the loop that
calls member_phone_reset for each selected person, so admin and the Members page reset a
phone the same way (STYLE habit 3)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import action_confirm
from organizations.members import MemberError, member_phone_reset


def phones_reset(modeladmin, request, members) -> None:
    """Remove the phone of each of `members`, as `request.user`; say what came of it."""
    done, refused = 0, []
    for member in members:
        try:
            member_phone_reset(actor=request.user, member=member, request=request)
        except MemberError as error:
            refused.append(error.message)
        except PermissionDenied:
            refused.append(
                _("You may not remove the phone of %(email)s.") % {"email": member.email}
            )
        else:
            done += 1
    if done:
        modeladmin.message_user(
            request,
            ngettext(
                "Removed the phone of %(count)d person; they were signed out everywhere and "
                "told by email.",
                "Removed the phone of %(count)d people; they were signed out everywhere and "
                "told by email.", done,
            ) % {"count": done},
            messages.SUCCESS,
        )
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)


PHONE_RESET_QUESTION = _("Remove the phone of these people?")
PHONE_RESET_EXPLANATION = (
    _("Every second factor of theirs is removed: their phone, and their authenticator app and "
    "recovery codes if they set them up, and their passkeys if they added any. Each is "
    "signed out "
    "of every browser at once, no browser stays remembered for them, and their next sign-in "
    "asks for a new mobile number. They are told by email. Check first that the request "
    "really comes from them.")
)


def phone_reset_permitted(request) -> bool:
    """Support staff who may change accounts see "Remove user phone"; whom they may reset is
    then member_phone_reset's own rule (organizations.permissions)."""
    return request.user.is_staff and request.user.has_perm("accounts.change_user")


class DevicePhoneResetMixin:
    """The "Remove user phone" action (name it in `actions`) of a ModelAdmin of people's
    devices: it resets the phone of each person whose device is selected, once however
    many of their devices (passkeys) are."""

    def has_phone_reset_permission(self, request):
        return phone_reset_permitted(request)

    @admin.action(description=_("Remove user phone"), permissions=["phone_reset"])
    def remove_user_phone(self, request, queryset):
        queryset = queryset.select_related("user")
        response = action_confirm(
            self, request, queryset, title=_("Remove user phone"),
            question=PHONE_RESET_QUESTION, explanation=PHONE_RESET_EXPLANATION,
            button=_("Remove user phone"),
        )
        if response is None:
            phones_reset(self, request, list(dict.fromkeys(device.user for device in queryset)))
        return response
