"""Members and workspaces of an organization in Django admin (inlines of OrganizationAdmin).

The members inline is saved through the services of the Members page (organizations.members),
so that support staff meet the same rules (an organization keeps an admin) and leave the
same security events (MEMBERSHIP_ADDED, ROLE_CHANGED, MEMBER_REMOVED). OrganizationAdmin
takes `OrganizationMembersAdminMixin` first among its bases and lists the two inlines.
"""

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from core.http import client_of
from organizations.members import membership_add, membership_remove, membership_role_change
from organizations.models import Membership, Workspace

ADMIN = Membership.Role.ADMIN


class MembershipInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        had_admin = keeps_admin = False
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue  # an empty extra row
            if form.instance.pk is not None and "user" in form.changed_data:
                form.add_error(
                    "user", _("Remove this membership and add the person instead.")
                )
            if form.instance.pk is not None and form.initial.get("role") == ADMIN:
                had_admin = True
            if not self._should_delete_form(form) and form.cleaned_data.get("role") == ADMIN:
                keeps_admin = True
        if had_admin and not keeps_admin:
            raise forms.ValidationError(
                _("The organization must keep at least one admin. Make someone else an admin "
                "first."), code="last_admin",
            )


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipInlineFormSet
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    extra = 0
    verbose_name = _("member")
    verbose_name_plural = _("members")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").order_by("user__email")


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    extra = 0


def memberships_save(*, request, formset) -> None:
    """Save the members inline through the services, as `request.user`.

    Additions and promotions first, then demotions and removals, so that handing the admin
    role over to someone else in one save never leaves the organization without an admin.
    The formset's record of what changed is filled in for admin's change message.
    """
    organization = formset.instance
    added, promoted, demoted, removed = [], [], [], []
    for form in formset.initial_forms + formset.extra_forms:
        membership = form.instance
        if membership.pk is not None and formset._should_delete_form(form):
            removed.append(membership)
        elif membership.pk is None and form.has_changed():
            added.append(form)
        elif membership.pk is not None and "role" in form.changed_data:
            (promoted if form.cleaned_data["role"] == ADMIN else demoted).append(form)

    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for form in added:
        formset.new_objects.append(membership_add(
            actor=request.user, organization=organization, user=form.cleaned_data["user"],
            role=form.cleaned_data["role"], **client_of(request),
        ))
    for form in promoted + demoted:
        formset.changed_objects.append((membership_role_change(
            actor=request.user, membership=form.instance, role=form.cleaned_data["role"],
            **client_of(request),
        ), ["role"]))
    for membership in removed:
        membership_remove(actor=request.user, membership=membership, **client_of(request))
        formset.deleted_objects.append(membership)


class OrganizationMembersAdminMixin:
    """For OrganizationAdmin: the members inline is saved by `memberships_save`."""

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            return memberships_save(request=request, formset=formset)
        return super().save_formset(request, form, formset, change)
