"""The page frame's words and addresses (templates/base.html), worked out once per language:
`{% load frame %}{% page_frame as frame %}` (settings.TEMPLATES' "libraries").

Every page draws the same frame: the icon and the style sheet, the skip link, the brand, and
for a signed-out page the link to the sign-in page, the privacy link and the language
switch. Written with `{% static %}`, `{% url %}`, `{% translate %}` and a loop over the
languages, that was about a third of a sign-in page's rendering (issue 12), each page working
out again the same few strings. They depend only on the language, and on the URL prefix and
URLconf that reverse() reads, so they are made once for each of those and kept; the
template keeps the markup. What depends on the request (the CSRF token, `next`, the user)
stays in the template.
"""

from dataclasses import dataclass
from functools import lru_cache

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

register = template.Library()


@dataclass(frozen=True)
class Frame:
    language: str  # the <html lang>
    icon_url: str
    stylesheet_url: str
    skip_to_content: str
    brand: SafeString  # includes/brand.html
    signin_url: str
    privacy_url: str  # "" for a URLconf without the privacy notice
    privacy_policy: str
    set_language_url: str
    language_label: str
    language_options: SafeString  # the language switch's <option>s, this one selected
    change_language: str


@lru_cache(maxsize=64)
def _frame(language: str, script_prefix: str, urlconf) -> Frame:
    """The frame in the active `language` for this `script_prefix` and `urlconf`: the
    arguments are the cache's key; reverse() and gettext read them from the thread."""
    try:
        privacy_url = reverse("accounts:privacy")
    except NoReverseMatch:
        privacy_url = ""
    return Frame(
        language=language,
        icon_url=static("img/backstage-mark.svg"),
        stylesheet_url=static("css/backstage.css"),
        skip_to_content=gettext("Skip to content"),
        brand=render_to_string("includes/brand.html"),
        signin_url=reverse("accounts:signin"),
        privacy_url=privacy_url,
        privacy_policy=gettext("Privacy policy"),
        set_language_url=reverse("set_language"),
        language_label=gettext("Language"),
        language_options=format_html_join(
            "\n    ",
            '<option value="{0}" lang="{0}"{1}>{2}</option>',
            # get_available_languages' names: each through gettext, as that tag gives them.
            ((code, " selected" if code == language else "", gettext(name))
             for code, name in settings.LANGUAGES),
        ),
        change_language=gettext("Change language"),
    )


@receiver(setting_changed)
def _forget_frames(**kwargs):
    """A test's override_settings may change the URLs, the static files or the languages."""
    _frame.cache_clear()


@register.simple_tag
def page_frame() -> Frame:
    return _frame(get_language(), get_script_prefix(), get_urlconf())
