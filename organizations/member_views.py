"""The Members and Activity pages of an organization (SPEC journeys 1, 8 and 10).

Everything is looked up inside the organizations of the person asking: someone who is not
a member gets 404, exactly as for an organization that does not exist (STYLE habit 4). A
member who is not an admin sees the admins and nothing else; the actions answer them 403.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.invitations import (
    InvitationError,
    invitation_create,
    invitation_resend,
    invitation_revoke,
)
from accounts.languages import recipient_language
from accounts.models import Invitation
from core.http import client_of
from mfa.models import SmsDevice
from organizations.member_forms import InviteForm, MemberSearchForm, RoleForm
from organizations.members import (
    MemberError,
    activity_events,
    display_name,
    event_summary,
    member_phone_reset,
    membership_remove,
    membership_remove_check,
    membership_role_change,
    organization_admins,
    phone_reset_check,
)
from organizations.models import Membership
from organizations.permissions import support_account_refusal

PER_PAGE = 50
PENDING_INVITATIONS_SHOWN = 100
# Whether or not the address has an account: inviting must not tell (SECURITY.md 9).
INVITED = _("We've sent an invitation to {email}.")
LONE_ADMIN = _("A lone admin can't get their own phone reset by a colleague. Add another admin.")


class IdConverter:
    """A row id in a URL: 1 to 18 digits (organizations.urls)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


def _own_membership(request, slug: str) -> Membership:
    """The viewer's membership of the organization `slug`: 404 if they have none."""
    return get_object_or_404(
        Membership.objects.select_related("organization"),
        organization__slug=slug,
        user=request.user,
    )


def _admin_membership(request, slug: str) -> Membership:
    membership = _own_membership(request, slug)
    if not membership.is_admin:
        raise PermissionDenied
    return membership


def _member_of(organization, member_id: int) -> Membership:
    """A member of `organization` by user id; a forged id answers 404 like a missing one."""
    return get_object_or_404(
        Membership.objects.select_related("user"), organization=organization, user_id=member_id
    )


def _members_url(organization) -> str:
    return reverse("organizations:members", kwargs={"slug": organization.slug})


def members(request, slug):
    own = _own_membership(request, slug)
    organization = own.organization
    if not own.is_admin:
        return render(request, "organizations/members_admins.html", {
            "organization": organization,
            "admins": organization_admins(organization),
        })

    search_form = MemberSearchForm(request.GET)
    search = search_form.search()
    rows = (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .annotate(
            has_phone=Exists(
                SmsDevice.objects.on_file().filter(user_id=OuterRef("user_id"))
            )
        )
        .order_by("user__full_name", "user__email", "pk")
    )
    if search:
        rows = rows.filter(Q(user__full_name__icontains=search) | Q(user__email__icontains=search))
    # get_page: a page number that is not a number gives the first page, one past the end
    # the last page.
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for row in page.object_list:
        # Support's accounts show no Remove links: the services would refuse them.
        row.support_account = support_account_refusal(actor=request.user, member=row.user)
    admin_count = Membership.objects.filter(
        organization=organization, role=Membership.Role.ADMIN
    ).count()
    # Expired ones too, marked "Expired": Resend is how an admin revives one.
    invitations = Invitation.objects.unused().filter(
        organization=organization
    ).select_related("invited_by")[:PENDING_INVITATIONS_SHOWN]
    return render(request, "organizations/members.html", {
        "organization": organization,
        "page": page,
        "search_form": search_form,
        "search": search,
        "invite_form": InviteForm(initial={"language": recipient_language(request.user)}),
        "role_choices": Membership.Role.choices,
        "invitations": invitations,
        "now": timezone.now(),
        "lone_admin": LONE_ADMIN if admin_count < 2 else "",
    })


@require_POST
def member_invite(request, slug):
    organization = _admin_membership(request, slug).organization
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(
                email=form.cleaned_data["email"], organization=organization,
                role=form.cleaned_data["role"], invited_by=request.user, **client_of(request),
                language=form.cleaned_data["language"],
            )
        except InvitationError as error:
            form.add_error("email", error.message)
        else:
            messages.success(request, INVITED.format(email=invitation.email))
            return redirect(_members_url(organization))
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect(_members_url(organization))


def member_phone_remove(request, slug, member_id):
    organization = _admin_membership(request, slug).organization
    member = _member_of(organization, member_id).user
    try:
        if request.method == "POST":
            member_phone_reset(
                actor=request.user, member=member, request=request, organization=organization
            )
        else:
            phone_reset_check(actor=request.user, member=member)
    except MemberError as error:
        messages.error(request, error.message)
        return redirect(_members_url(organization))
    if request.method == "POST":
        messages.success(
            request,
            _("The phone of %(name)s was removed and they were signed out everywhere. They "
              "will set a new number at their next sign-in.") % {"name": display_name(member)},
        )
        return redirect(_members_url(organization))
    return render(request, "organizations/members_phone_remove.html", {
        "organization": organization, "member": member, "member_name": display_name(member),
    })


@require_POST
def member_role(request, slug, member_id):
    organization = _admin_membership(request, slug).organization
    membership = _member_of(organization, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["role"][0])
        return redirect(_members_url(organization))
    try:
        membership = membership_role_change(
            actor=request.user, membership=membership, role=form.cleaned_data["role"],
            **client_of(request),
        )
    except MemberError as error:
        messages.error(request, error.message)
    else:
        words = _("%(name)s is now an admin.") if membership.is_admin else _(
            "%(name)s is now a member."
        )
        messages.success(request, words % {"name": display_name(membership.user)})
    return redirect(_members_url(organization))


def member_remove(request, slug, member_id):
    organization = _admin_membership(request, slug).organization
    membership = _member_of(organization, member_id)
    if request.method != "POST":
        try:
            membership_remove_check(actor=request.user, member=membership.user)
        except MemberError as error:
            messages.error(request, error.message)
            return redirect(_members_url(organization))
        return render(request, "organizations/members_remove.html", {
            "organization": organization, "member": membership.user,
            "member_name": display_name(membership.user),
            "is_self": membership.user_id == request.user.pk,
        })
    try:
        membership_remove(actor=request.user, membership=membership, **client_of(request))
    except MemberError as error:
        messages.error(request, error.message)
        return redirect(_members_url(organization))
    messages.success(
        request, _("%(name)s was removed from %(organization)s.") % {
            "name": display_name(membership.user), "organization": organization.name,
        }
    )
    if membership.user_id == request.user.pk:  # they left: the page is no longer theirs
        return redirect("home")
    return redirect(_members_url(organization))


def _pending_invitation(organization, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id, organization=organization)


@require_POST
def invitation_resend_view(request, slug, invitation_id):
    organization = _admin_membership(request, slug).organization
    invitation = _pending_invitation(organization, invitation_id)
    try:
        invitation_resend(invitation=invitation, actor=request.user, **client_of(request))
    except InvitationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("We've sent a new invitation to %(email)s.") % {"email": invitation.email}
        )
    return redirect(_members_url(organization))


@require_POST
def invitation_revoke_view(request, slug, invitation_id):
    organization = _admin_membership(request, slug).organization
    invitation = _pending_invitation(organization, invitation_id)
    try:
        invitation_revoke(invitation=invitation, actor=request.user, **client_of(request))
    except InvitationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}
        )
    return redirect(_members_url(organization))


def activity(request, slug):
    organization = _admin_membership(request, slug).organization
    page = Paginator(activity_events(organization), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "organizations/activity.html", {
        "organization": organization,
        "page": page,
        "events": [(event, event_summary(event)) for event in page],
    })
