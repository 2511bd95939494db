from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_INVITEE, DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo organization, its workspaces, an admin, a member and a pending "
        "invitation; running it again adds nothing. Only with DEBUG (the demo passwords "
        "are public)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true",
            help="Run without DEBUG. Never on production: it creates accounts whose "
            "password is printed here.",
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a publicly known password, so it runs only "
                "with DEBUG=1. Use --force to run it anyway (never on production)."
            )
        seed = demo_seed()
        if seed.created:
            self.stdout.write(self.style.SUCCESS("Demo data: added " + ", ".join(seed.created)))
        else:
            self.stdout.write("Demo data already present.")
        workspaces = ", ".join(seed.organization.workspaces.values_list("name", flat=True))
        self.stdout.write(
            f"  Organization: {seed.organization.name} ({seed.organization.slug}); "
            f"workspaces: {workspaces}"
        )
        for user in seed.users:
            role = user.memberships.get(organization=seed.organization).get_role_display()
            self.stdout.write(f"  {role}: {user.email} / password {DEMO_PASSWORD}")
        if seed.invitation_link:
            self.stdout.write(f"  Pending invitation for {DEMO_INVITEE}: {seed.invitation_link}")
        else:
            self.stdout.write(f"  {DEMO_INVITEE} has already accepted their invitation.")
