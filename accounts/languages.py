"""Which language a page, an email or a text message is in.

Before sign-in, Django's LocaleMiddleware picks the browser's: the footer's switch
(set_language's cookie), else Accept-Language, else LANGUAGE_CODE. Once signed in, the
language stored on the account (personal settings) wins over both; a blank one keeps
the browser's. Emails and text messages go out in the recipient's stored language, or
in the language of the request that sends them (recipient_language).
"""

from django.conf import settings
from django.utils import translation


class StoredLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in member's stored language replaces the
    browser's for this request (LocaleMiddleware then names it in Content-Language)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


def recipient_language(user=None, language: str | None = None) -> str:
    """The language to write to someone in: the one given (an invitation's), else the
    account's stored one, else the language active now (the request's), else LANGUAGE_CODE."""
    chosen = language or (user.language if user is not None else "") or translation.get_language()
    codes = {code for code, _name in settings.LANGUAGES}
    return chosen if chosen in codes else settings.LANGUAGE_CODE
