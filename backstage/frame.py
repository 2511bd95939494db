"""Pieces of the page frame (templates/base.html) written in Python: `{% load frame %}`
(settings.TEMPLATES' "libraries").

Every signed-out page draws them, and as templates they were a good part of a page's
rendering: the language switch alone, a loop over the languages with a variable, an
`if` and a translation per option, cost as much to render as the sign-in form's two fields
(issue 12). Here it is the same markup, made by a few string operations.
"""

from django import template
from django.conf import settings
from django.template.defaulttags import CsrfTokenNode
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext

register = template.Library()

# `{% csrf_token %}`'s own node, so that the switch writes the token as every form does.
_csrf_token = CsrfTokenNode()


@register.simple_tag(takes_context=True)
def language_switch(context):
    """The footer's language switch: Django's set_language as a plain form, so that it works
    without JavaScript. It returns to this page by the Referer (the same-origin policy sends
    it): no `next` field, which would have to repeat this page's own `next`."""
    current = get_language()
    options = format_html_join(
        "\n",
        '    <option value="{0}" lang="{0}"{1}>{2}</option>',
        # get_available_languages' names: each through gettext, as that tag gives them.
        ((code, " selected" if code == current else "", gettext(name))
         for code, name in settings.LANGUAGES),
    )
    return format_html(
        '<form class="language-switch" method="post" action="{}">\n'
        "  {}\n"
        '  <label for="language-switch">{}</label>\n'
        '  <select id="language-switch" name="language">\n'
        "{}\n"
        "  </select>\n"
        '  <button type="submit" class="link-button">{}</button>\n'
        "</form>",
        reverse("set_language"),
        _csrf_token.render(context),
        gettext("Language"),
        options,
        gettext("Change language"),
    )
