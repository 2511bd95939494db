"""Every label that Django admin shows of our models and of our admin is marked for translation
and translated in French and German (issue 13): the models' names, each field's name, help
text and choices, and our ModelAdmins' fieldset titles, columns, actions, filters and search
help. A label added without gettext_lazy, or without its translations, fails here."""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import SimpleListFilter
from django.core.management import call_command
from django.utils.translation import gettext_lazy, trans_real

OUR_APPS = ["accounts", "mfa", "organizations"]
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# What gettext_lazy returns (format_lazy's "{}s" plural, say, is lazy but no message).
GETTEXT_LAZY = type(gettext_lazy("x"))


def our_models():
    return [model for label in OUR_APPS for model in apps.get_app_config(label).get_models()]


def labels_of(model):
    """(where, label) for each label of `model`: its names, and each declared field's name,
    help text and choices (the language names of settings.LANGUAGES are written in their
    own language on purpose, and are not translated)."""
    yield f"{model.__name__} verbose_name", model._meta.verbose_name
    yield f"{model.__name__} verbose_name_plural", model._meta.verbose_name_plural
    for field in model._meta.get_fields():
        if field.auto_created:
            continue  # the id and the reverse relations, which admin names by their model
        where = f"{model.__name__}.{field.name}"
        yield f"{where} verbose_name", field.verbose_name
        if field.help_text:
            yield f"{where} help_text", field.help_text
        if field.choices and list(field.choices) != list(settings.LANGUAGES):
            for value, label in field.flatchoices:
                yield f"{where} choice {value}", label


def untranslated(where_and_labels) -> list[str]:
    """The labels that are not gettext_lazy messages with a translation in each language."""
    problems = []
    for where, label in where_and_labels:
        if type(label) is not GETTEXT_LAZY:
            problems.append(f"{where}: {label!r} is not marked with gettext_lazy")
            continue
        message = label._args[0]
        for language in TRANSLATED:
            catalog = trans_real.translation(language)._catalog
            if message not in catalog or not catalog[message]:
                problems.append(f"{where}: {message!r} has no {language} translation")
    return problems


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_model_and_field_label_is_translated(model):
    assert untranslated(labels_of(model)) == []


def test_our_apps_and_django_otps_authenticator_apps_are_named_in_each_language():
    """The apps as admin heads them, and django-otp's model, named by mfa.apps."""
    totp = apps.get_model("otp_totp", "TOTPDevice")._meta
    names = [(label, apps.get_app_config(label).verbose_name) for label in [*OUR_APPS, "otp_totp"]]
    names += [("TOTPDevice", totp.verbose_name), ("TOTPDevice plural", totp.verbose_name_plural)]
    assert untranslated(names) == []


def our_model_admins():
    return [
        model_admin
        for model_admin in admin.site._registry.values()
        if type(model_admin).__module__.split(".")[0] in OUR_APPS
    ]


def admin_labels(model_admin):
    """(where, label) for the words of a ModelAdmin of ours that are not a model's field."""
    name = type(model_admin).__name__
    if model_admin.search_help_text is not None:
        yield f"{name}.search_help_text", model_admin.search_help_text
    for title, _options in model_admin.fieldsets or []:
        if title is not None:
            yield f"{name} fieldset", title
    for action in model_admin.actions or []:
        yield f"{name} action {action}", getattr(model_admin, action).short_description
    shown = [*model_admin.list_display, *model_admin.readonly_fields]
    for column in shown:
        method = getattr(type(model_admin), column, None)
        if callable(method):
            yield f"{name}.{column}", method.short_description
    for list_filter in model_admin.list_filter:
        if isinstance(list_filter, type) and issubclass(list_filter, SimpleListFilter):
            yield f"{name} filter {list_filter.__name__}", list_filter.title
    for inline in model_admin.inlines:
        for attribute in ("verbose_name", "verbose_name_plural"):
            if inline.__dict__.get(attribute) is not None:
                yield f"{inline.__name__}.{attribute}", inline.__dict__[attribute]


@pytest.mark.parametrize(
    "model_admin", our_model_admins(), ids=lambda model_admin: type(model_admin).__name__
)
def test_every_label_of_our_admin_is_translated(model_admin):
    assert untranslated(admin_labels(model_admin)) == []


def test_the_check_catches_an_unmarked_label():
    """The rule itself: a plain string, and a marked one without translations, are refused."""
    assert untranslated([("plain", "organization")]) == [
        "plain: 'organization' is not marked with gettext_lazy"
    ]
    assert untranslated([("new", gettext_lazy("a label nobody translated"))]) == [
        f"new: 'a label nobody translated' has no {language} translation" for language in TRANSLATED
    ]


def test_the_labels_are_in_our_migrations_and_need_none_in_django_otps(db):
    """A new verbose_name is a migration of ours; django-otp's model, renamed at run time
    (mfa.apps), needs none in its own app."""
    call_command("makemigrations", check=True, dry_run=True, verbosity=0)
