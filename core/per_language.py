"""`{% cached_per_language %}...{% endcached_per_language %}`: markup that is the same for
everyone who reads the page in a language, rendered once and kept (settings.TEMPLATES'
"libraries": `{% load per_language %}`).

The sign-in pages spend much of their rendering on `{% url %}`, `{% static %}` and
`{% translate %}` whose answers never change between two requests: a URL reversed, a
static file's hashed name looked up, a sentence translated, for every page (issue 12). Inside
the block they are worked out once for each language, URL prefix and URLconf (what
reverse() and gettext read besides their arguments) and the block's markup kept.

The block is rendered WITHOUT the page's context: no request, user, `next`, CSRF token or
messages, so nothing of one person's request can be kept and shown to another. A variable
from the view renders empty there, and `{% csrf_token %}` renders nothing (with a warning
under DEBUG): put what depends on the request between two blocks. The kept markup is
dropped when a setting changes (a test's override_settings).
"""

from functools import lru_cache

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

register = template.Library()


class CachedPerLanguageNode(template.Node):
    # Not walked for {% block %}s (there are none inside, see below): `{% extends %}` walks
    # the base template's every node for its blocks on each page it draws.
    child_nodelists = ()

    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        return _rendered(
            self, context.template, context.autoescape,
            get_language(), get_script_prefix(), get_urlconf(),
        )  # fmt: skip


# Bounded, for the development server's templates, compiled again when they change.
@lru_cache(maxsize=1024)
def _rendered(node, page, autoescape, language, script_prefix, urlconf):
    """The block in the active `language`, `script_prefix` and `urlconf`: those arguments
    are the cache's key; the tags inside read them from the thread."""
    context = Context(autoescape=autoescape)  # nothing of the request's: see the module
    with context.bind_template(page):
        return node.nodelist.render(context)  # a SafeString, as every NodeList's


@receiver(setting_changed)
def _forget(**kwargs):
    """The URLs, the static files' names or the languages may have changed."""
    _rendered.cache_clear()


@register.tag
def cached_per_language(parser, token):
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("cached_per_language takes no arguments")
    nodelist = parser.parse(("endcached_per_language",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        # A child template's block would be drawn without the page's context.
        raise template.TemplateSyntaxError("cached_per_language cannot hold a {% block %}")
    return CachedPerLanguageNode(nodelist)
