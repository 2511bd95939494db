"""Admin helpers every app's admin may import: an action's confirmation page
(`action_confirm`), the base of the logs that are looked at, never edited
(`ReadOnlyAdmin`), and a list filter under a title of ours (`filter_titled`). The
"Remove user phone" action lives with member_phone_reset's other pieces, in
organizations.phone_reset_admin."""

from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse


def action_confirm(modeladmin, request, queryset, *, title, question, button, explanation=""):
    """The confirmation page of an action, or None once the person has confirmed it there.

    Django's own "Delete selected" works the same way: the page posts the selection back
    with `post=yes`. No JavaScript is needed.
    """
    if request.POST.get("post") == "yes":
        return None
    return TemplateResponse(request, "admin/action_confirmation.html", {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "question": question,
        "explanation": explanation,
        "button": button,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    })


class ReadOnlyAdmin(admin.ModelAdmin):
    """A log: looked at and filtered, never added to, changed or deleted from admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def filter_titled(filter_class, title):
    """`filter_class`, one of admin's field list filters, headed `title` rather than the
    field's own name: for another app's model whose field names are not translated."""

    class TitledFilter(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return TitledFilter
