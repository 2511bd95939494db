from django.core.management.base import BaseCommand, CommandError

from organizations.services import OrganizationError, organization_create


class Command(BaseCommand):
    help = "Create an organization, optionally claiming email domains for enterprise login."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The organization's name, e.g. \"Acme Events\".")
        parser.add_argument(
            "--slug", help="Its short name in URLs (made from the name if omitted)."
        )
        parser.add_argument(
            "--domain", action="append", default=[], dest="domains", metavar="DOMAIN",
            help="An email domain it claims, e.g. acme.com (repeat for several).",
        )

    def handle(self, *args, name, slug, domains, **options):
        try:
            organization = organization_create(name=name, slug=slug, domains=domains)
        except OrganizationError as error:
            raise CommandError(error.message) from None
        claimed = ", ".join(organization.domains.values_list("domain", flat=True))
        self.stdout.write(self.style.SUCCESS(
            f"Created organization {organization.name} (slug: {organization.slug})"
            + (f", claiming {claimed}." if claimed else ".")
        ))
