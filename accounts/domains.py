"""The one spelling of an email domain, for every place that stores or compares one: emails
(accounts.models.normalize_email), the domains an organization claims (EmailDomain.save,
its admin form, organization_create) and enterprise login's look-up (organizations.sso).

Its own module, without models, so that organizations.models can import it: accounts.models
imports organizations.models.
"""

import idna


def domain_to_ascii(domain: str) -> str:
    """The one spelling of a domain that we store and compare: lower case, no final dot,
    international names in their ASCII (xn--) form; "" if it is none."""
    domain = domain.strip().rstrip(".")
    if domain.isascii():
        return domain.lower()
    try:
        # UTS #46 (which also folds the case) and IDNA 2008, as browsers and registries read
        # names today: "straße.de" is xn--strae-oqa.de there, where Python's own "idna" codec
        # (IDNA 2003) says strasse.de, someone else's domain.
        return idna.encode(domain, uts46=True).decode("ascii").rstrip(".")
    except UnicodeError:
        return ""
