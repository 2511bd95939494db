"""Every change to organizations, as plain functions.

Claimed domains are spelled by accounts.domains.domain_to_ascii, as everywhere else.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator, validate_slug
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.domains import domain_to_ascii
from core.errors import ApplicationError
from organizations.models import EmailDomain, Organization

NAME_MAX_LENGTH = Organization._meta.get_field("name").max_length
SLUG_MAX_LENGTH = Organization._meta.get_field("slug").max_length


class OrganizationError(ApplicationError):
    """Why an organization change cannot be made; `message` is shown to the person."""


def _domains_validate(domains: Iterable[str]) -> list[str]:
    # International domains go in their ASCII (xn--) form, the form that email addresses
    # are compared in, so that a look-alike spelling cannot claim someone else's domain:
    # "Bücher.example" is claimed as xn--bcher-kva.example, as Django admin does.
    validator = DomainNameValidator(accept_idna=False)
    cleaned = []
    for raw in domains:
        domain = domain_to_ascii(raw)
        try:
            validator(domain)
        except ValidationError:
            raise OrganizationError(
                f"“{raw}” is not a valid email domain.", code="invalid_domain"
            ) from None
        if domain not in cleaned:
            cleaned.append(domain)
    existing = (
        EmailDomain.objects.filter(domain__in=cleaned).select_related("organization").first()
    )
    if existing is not None:
        raise OrganizationError(
            f"The domain {existing.domain} is already claimed by {existing.organization.name}.",
            code="domain_taken",
        )
    return cleaned


@transaction.atomic
def organization_create(
    *, name: str, slug: str | None = None, domains: Iterable[str] = ()
) -> Organization:
    """A new organization called `name`, claiming the email `domains`.

    The slug defaults to one made from the name.
    """
    name = name.strip()
    if not name:
        raise OrganizationError(_("Give the organization a name."), code="name_required")
    if len(name) > NAME_MAX_LENGTH:
        raise OrganizationError(
            f"The name can have at most {NAME_MAX_LENGTH} characters.", code="name_too_long"
        )
    slug = (slug.strip() if slug else slugify(name)[:SLUG_MAX_LENGTH].strip("-"))
    try:
        validate_slug(slug)
    except ValidationError:
        raise OrganizationError(
            _("Choose a slug made of letters, numbers, hyphens or underscores (--slug)."),
            code="invalid_slug",
        ) from None
    if len(slug) > SLUG_MAX_LENGTH:
        raise OrganizationError(
            f"The slug can have at most {SLUG_MAX_LENGTH} characters.", code="slug_too_long"
        )
    if Organization.objects.filter(slug=slug).exists():
        raise OrganizationError(
            f"An organization with the slug “{slug}” already exists.", code="slug_taken"
        )
    domains = _domains_validate(domains)

    organization = Organization.objects.create(name=name, slug=slug)
    for domain in domains:
        EmailDomain.objects.create(organization=organization, domain=domain)
    return organization
