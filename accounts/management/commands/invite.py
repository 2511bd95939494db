from django.core.management.base import BaseCommand, CommandError

from accounts.invitations import InvitationError, invitation_create, invitation_url
from organizations.models import Membership, Organization


class Command(BaseCommand):
    help = (
        "Invite an email address to an organization. Prints the invitation link, which is "
        "also emailed, so that it can be handed over another way."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--organization", required=True, metavar="SLUG",
                            help="The slug of the organization.")
        parser.add_argument("--admin", action="store_true",
                            help="Make them an admin of the organization (default: member).")

    def handle(self, *args, email, organization, admin, **options):
        org = Organization.objects.filter(slug=organization).first()
        if org is None:
            raise CommandError(
                f"No organization has the slug “{organization}”. "
                "See the list in Django admin, or create it with create_organization."
            )
        role = Membership.Role.ADMIN if admin else Membership.Role.MEMBER
        try:
            invitation = invitation_create(
                email=email, organization=org, role=role, limited=False
            )
        except InvitationError as error:
            # The other messages name the address already.
            shown = f" (got “{email}”)" if error.code == "invalid_email" else ""
            raise CommandError(f"{error.message}{shown}") from None
        self.stdout.write(self.style.SUCCESS(
            f"Invited {invitation.email} to {org.name} as {invitation.get_role_display().lower()}."
            f" The link works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC:"
        ))
        self.stdout.write(invitation_url(invitation.token))
