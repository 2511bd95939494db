"""core.form_renderer writes exactly what Django's form templates write, for the project's
forms and for every branch of the templates that it replaces."""

import datetime

import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils import translation
from django.utils.safestring import mark_safe

from accounts.forms import SignInForm
from accounts.password_forms import PasswordResetRequestForm
from accounts.settings_forms import FullNameForm, LanguageForm
from core.form_renderer import WRITERS, FormRenderer
from mfa.forms import CodeForm, PasskeyNameForm, PasskeySigninForm, PhoneForm, RecoveryCodeForm
from organizations.forms import EnterpriseLoginForm
from organizations.member_forms import InviteForm, MemberSearchForm


class EveryBranchForm(forms.Form):
    """A field for each branch of the templates that core.form_renderer writes."""

    required_css_class = "required"

    text = forms.CharField(
        label="Name <&> \"'", help_text="Help with <b>markup</b>", initial="<&> \"'"
    )
    safe_label = forms.CharField(label=mark_safe("<em>Safe</em>"), required=False)
    question = forms.CharField(label="Why?", label_suffix=" !", required=False)
    disabled = forms.CharField(disabled=True, initial="fixed", required=False)
    described = forms.CharField(
        widget=forms.TextInput(attrs={"aria-describedby": "elsewhere", "data-x": False}),
        required=False,
    )
    own_id = forms.CharField(widget=forms.TextInput(attrs={"id": "custom"}), required=False)
    number = forms.IntegerField(initial=12345, required=False)
    day = forms.DateField(initial=datetime.date(2026, 12, 1), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, initial="h", required=False)
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    tick = forms.BooleanField(initial=True, required=False)
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autofocus": True}))
    url = forms.URLField(required=False)
    phone = forms.CharField(widget=forms.TelInput, required=False)
    search = forms.CharField(widget=forms.SearchInput, required=False)
    colour = forms.CharField(widget=forms.ColorInput, initial="#ff0000", required=False)
    time = forms.TimeField(initial=datetime.time(9, 30), required=False)
    moment = forms.DateTimeField(initial=datetime.datetime(2026, 12, 1, 9, 30), required=False)
    choice = forms.ChoiceField(choices=[("", "Choose"), ("a", "A & <b>"), ("b", "B")])
    grouped = forms.ChoiceField(
        choices=[("Group <1>", [(1, 1000), (2, "two")]), ("Group 2", [(3, "three")]), (4, "four")],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y")], required=False)
    radio = forms.ChoiceField(
        widget=forms.RadioSelect, choices=[("r", "R"), ("s", "S")], help_text="One of two"
    )
    boxes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, choices=[("c", "C")], required=False
    )
    textarea = forms.CharField(widget=forms.Textarea, required=False)
    no_label = forms.CharField(label="", required=False)

    def clean(self):
        raise forms.ValidationError("A form error <&>")


class OwnOptionTemplate(forms.Select):
    option_template_name = "django/forms/widgets/radio_option.html"


class OwnTemplatesForm(forms.Form):
    """Fields and widgets with templates of their own are left to Django's templates."""

    own_option = forms.ChoiceField(widget=OwnOptionTemplate, choices=[("a", "A")])
    own_field = forms.CharField(template_name="django/forms/p.html", required=False)


INVALID = {
    "text": "<script>",
    "email": "not an email",
    "number": "many",
    "day": "tomorrow",
    "grouped": "9",
    "many": ["z"],
    "tick": "on",
    "url": "nope",
    "secret": "s<&>",
}


def forms_to_compare():
    yield "sign-in", lambda r: SignInForm(None, renderer=r)
    yield (
        "sign-in with errors",
        lambda r: SignInForm(None, data={"email": "x<'\">", "password": ""}, renderer=r),
    )
    yield "code", lambda r: CodeForm(renderer=r)
    yield "code with errors", lambda r: CodeForm(data={"code": "12", "remember": "on"}, renderer=r)
    yield "phone", lambda r: PhoneForm(renderer=r)
    yield (
        "phone with errors",
        lambda r: PhoneForm(data={"country": "CH", "number": "abc"}, renderer=r),
    )
    yield "passkey sign-in", lambda r: PasskeySigninForm(data={}, renderer=r)
    yield "recovery code", lambda r: RecoveryCodeForm(data={"code": "x"}, renderer=r)
    yield "passkey name", lambda r: PasskeyNameForm(data={"name": ""}, renderer=r)
    yield "full name", lambda r: FullNameForm(data={"full_name": "a\nb"}, renderer=r)
    yield "language", lambda r: LanguageForm(data={"language": "xx"}, renderer=r)
    yield "password reset", lambda r: PasswordResetRequestForm(data={"email": "@"}, renderer=r)
    yield "enterprise login", lambda r: EnterpriseLoginForm(data={"email": "a"}, renderer=r)
    yield "invite", lambda r: InviteForm(data={"email": "", "role": "king"}, renderer=r)
    yield "member search", lambda r: MemberSearchForm(data={"q": "x" * 300}, renderer=r)
    yield "every branch", lambda r: EveryBranchForm(renderer=r)
    yield "every branch with errors", lambda r: EveryBranchForm(data=INVALID, renderer=r)
    yield (
        "every branch without ids",
        lambda r: EveryBranchForm(data=INVALID, auto_id=False, renderer=r),
    )
    yield "own templates", lambda r: OwnTemplatesForm(data={"own_option": "b"}, renderer=r)


def html_of(form) -> list[str]:
    form.is_bound and form.is_valid()
    fields = [
        html
        for field in form
        for html in (field.as_field_group(), str(field), field.label_tag(), str(field.errors))
    ]
    return [form.as_div(), form.as_p(), str(form.non_field_errors()), *fields]


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize(("name", "make"), list(forms_to_compare()))
def test_the_project_renderer_writes_what_djangos_templates_write(name, make, language):
    with translation.override(language):
        django_html = html_of(make(DjangoTemplates()))
        our_html = html_of(make(FormRenderer()))
    assert our_html == django_html


def test_every_template_that_the_renderer_writes_is_compared_above():
    """Each writer is used by a form above (else its comparison proves nothing)."""
    used = set()

    class Recording(FormRenderer):
        def render(self, template_name, context, request=None):
            used.add(template_name)
            return super().render(template_name, context, request)

    for _name, make in forms_to_compare():
        html_of(make(Recording()))
    assert set(WRITERS) <= used
    assert "django/forms/widgets/radio.html" in used  # left to Django's templates


def test_forms_use_the_project_renderer():
    assert settings.FORM_RENDERER == "core.form_renderer.FormRenderer"
    assert isinstance(get_default_renderer(), FormRenderer)
    assert isinstance(SignInForm(None).renderer, FormRenderer)
