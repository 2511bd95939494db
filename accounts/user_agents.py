"""A browser's User-Agent header in a few words, for the list of remembered browsers.

Only a label for people ("Chrome on macOS"): never used for a security decision, and the
header itself (which anybody can write) is never shown.
"""

from django.utils.translation import gettext as _

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari", and
# browsers on iOS say "Safari" whatever they are.
BROWSERS = [
    ("Edge", ("Edg/", "EdgA/", "EdgiOS/")),
    ("Opera", ("OPR/", "Opera")),
    ("Samsung Internet", ("SamsungBrowser/",)),
    ("Firefox", ("Firefox/", "FxiOS/")),
    ("Chrome", ("CriOS/", "Chrome/", "Chromium/")),
    ("Safari", ("Safari/",)),
]

# iPads and iPhones before Mac, which their User-Agents also mention; Android before Linux.
SYSTEMS = [
    ("iPhone", ("iPhone",)),
    ("iPad", ("iPad",)),
    ("Android", ("Android",)),
    ("Windows", ("Windows",)),
    ("ChromeOS", ("CrOS",)),
    ("macOS", ("Macintosh", "Mac OS X")),
    ("Linux", ("Linux",)),
]


def _first_match(user_agent: str, table) -> str | None:
    for name, markers in table:
        if any(marker in user_agent for marker in markers):
            return name
    return None


def browser_label(user_agent: str) -> str:
    """"Chrome on macOS", "Firefox on Windows", "Safari on iPhone"; else "Unknown browser"."""
    user_agent = user_agent or ""
    browser = _first_match(user_agent, BROWSERS)
    system = _first_match(user_agent, SYSTEMS)
    if browser is None:
        if system:
            return _("Unknown browser on %(system)s") % {"system": system}
        return _("Unknown browser")
    if system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser
