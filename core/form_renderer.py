"""The renderer of every form (settings.FORM_RENDERER): Django's, with the markup of its
simplest templates written in Python.

A field drawn by `{{ form.email.as_field_group }}` goes through five of Django's templates
(the field, its label, its error list, the input, and a loop over the input's attributes,
twice), and a country list through one more per country: about half of the sign-in page's
rendering time (issue 12). The functions below write the same markup, to the character,
for the templates that they name; every other template (radio buttons, a textarea, a field
or widget with a template of its own) is rendered by Django's templates as before.
tests/core/test_form_renderer.py renders the project's forms both ways and compares them,
so a Django upgrade that changes one of these templates fails there instead of drifting.
"""

import html

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.safestring import SafeData

SELECT = "django/forms/widgets/select.html"
SELECT_OPTION = "django/forms/widgets/select_option.html"


def _escaped(text: str) -> str:
    """django.utils.html.conditional_escape of a string, without the lazy-string check that
    wraps it: a field's markup escapes some twenty values, and that check was a third of
    the time they took (issue 12)."""
    return text.__html__() if hasattr(text, "__html__") else html.escape(text)


def _var(value) -> str:
    """`{{ value }}` as the templates write it: localized, then escaped unless it is safe."""
    value = localize(value)
    return _escaped(value if isinstance(value, str) else str(value))


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}`: as text, never localized, escaped unless it is safe."""
    return _escaped(value if isinstance(value, SafeData) else str(value))


def _attrs(attrs: dict) -> str:
    """django/forms/attrs.html and widgets/attrs.html: True writes the bare name, False
    nothing."""
    return "".join(
        f" {_var(name)}" if value is True else f' {_var(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def field_html(context, renderer) -> str:
    """django/forms/field.html"""
    field = context["field"]
    if field.use_fieldset:
        describedby = field.aria_describedby
        describedby = f' aria-describedby="{_var(describedby)}"' if describedby else ""
        legend = field.legend_tag() if field.label else ""
        head, tail = f"\n  <fieldset{describedby}>\n  {legend}\n", "</fieldset>"
    else:
        head, tail = f"\n  {field.label_tag() if field.label else ''}\n", ""
    help_text = ""
    if field.help_text:
        help_id = f' id="{_var(field.auto_id)}_helptext"' if field.auto_id else ""
        help_text = f'<div class="helptext"{help_id}>{field.help_text}</div>'
    return f"{head}\n{help_text}\n{_var(field.errors)}\n{_var(field)}{tail}\n"


def label_html(context, renderer) -> str:
    """django/forms/label.html"""
    label = _var(context["label"])
    if not context["use_tag"]:
        return label
    tag = _var(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{label}</{tag}>"


def error_list_html(context, renderer) -> str:
    """django/forms/errors/list/default.html (which includes errors/list/ul.html)"""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    field_id = f' id="{_var(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_var(error)}</li>" for error in errors)
    return f'<ul class="{_var(context["error_class"])}"{field_id}>{items}</ul>'


def input_html(context, renderer) -> str:
    """django/forms/widgets/input.html, which text.html, email.html, password.html... include"""
    widget = context["widget"]
    value = widget["value"]
    value = "" if value is None else f' value="{_formatted(value)}"'
    return (
        f'<input type="{_var(widget["type"])}" name="{_var(widget["name"])}"{value}'
        f"{_attrs(widget['attrs'])}>"
    )


def option_html(widget) -> str:
    """django/forms/widgets/select_option.html"""
    return (
        f'<option value="{_formatted(widget["value"])}"{_attrs(widget["attrs"])}>'
        f"{_var(widget['label'])}</option>"
    )


def select_html(context, renderer) -> str:
    """django/forms/widgets/select.html, with its options' select_option.html"""
    widget = context["widget"]
    parts = [f'<select name="{_var(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_var(group_name)}">')
        for option in options:
            if option["template_name"] != SELECT_OPTION:  # a widget's own option template
                return renderer.render_template(SELECT, context)
            # The include keeps select_option.html's closing line break.
            parts.append(f"\n  {option_html(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


INPUT_WIDGETS = (
    "checkbox", "color", "date", "datetime", "email", "hidden", "number", "password", "search",
    "tel", "text", "time", "url",
)  # fmt: skip

# The templates written here, by name; every other one is Django's.
WRITERS = {
    "django/forms/field.html": field_html,
    "django/forms/label.html": label_html,
    "django/forms/errors/list/default.html": error_list_html,
    SELECT: select_html,
    # The widgets whose template is only `{% include "django/forms/widgets/input.html" %}`.
    **{f"django/forms/widgets/{name}.html": input_html for name in INPUT_WIDGETS},
}


class FormRenderer(DjangoTemplates):
    """Django's renderer (its own templates, apps' templates), with WRITERS in their stead."""

    def render(self, template_name, context, request=None):
        write = WRITERS.get(template_name)
        if write is None:
            return self.render_template(template_name, context, request)
        return write(context, self).strip()

    def render_template(self, template_name, context, request=None):
        """Django's own rendering of the template."""
        return super().render(template_name, context, request)
