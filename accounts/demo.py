"""Demo data for local development (`manage.py seed_demo`, run by scripts/run).

The accounts have a password printed on the console, so the command refuses to run
without DEBUG: production must never hold them.
"""

from dataclasses import dataclass, field

from django.db import transaction

from accounts.invitations import invitation_create, invitation_resend, invitation_url
from accounts.models import Invitation, User
from organizations.models import Membership, Organization, Workspace
from organizations.services import organization_create

DEMO_PASSWORD = "demo-password-2024"  # noqa: S105 (printed on purpose; DEBUG only)
DEMO_ORGANIZATION = ("Demo Events", "demo-events")
DEMO_WORKSPACES = (("Spring Summit", "spring-summit"), ("Partner Day", "partner-day"))
DEMO_USERS = (
    ("admin@demo.backstage.local", "Ada Admin", Membership.Role.ADMIN),
    ("member@demo.backstage.local", "Max Member", Membership.Role.MEMBER),
)
DEMO_INVITEE = "invitee@demo.backstage.local"


@dataclass
class DemoSeed:
    organization: Organization
    users: list[User]
    created: list[str] = field(default_factory=list)  # what this run added, for the console
    invitation_link: str = ""  # empty once the invitee has created their account


@transaction.atomic
def demo_seed() -> DemoSeed:
    """Make sure the demo organization, workspaces, people and invitation exist, once."""
    name, slug = DEMO_ORGANIZATION
    created = []
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        organization = organization_create(name=name, slug=slug)
        created.append(f"organization {name}")
    for workspace_name, workspace_slug in DEMO_WORKSPACES:
        _, new = Workspace.objects.get_or_create(
            organization=organization, slug=workspace_slug, defaults={"name": workspace_name}
        )
        if new:
            created.append(f"workspace {workspace_name}")

    users = []
    for email, full_name, role in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            # Directly, not through an invitation: the demo needs known passwords.
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD,
                                            full_name=full_name)
            created.append(f"user {email}")
        Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": role}
        )
        users.append(user)

    seed = DemoSeed(organization=organization, users=users, created=created)
    if User.objects.filter(email=DEMO_INVITEE).exists():
        return seed
    pending = Invitation.objects.pending().filter(
        email=DEMO_INVITEE, organization=organization
    ).first()
    if pending is None:
        invitation = invitation_create(
            email=DEMO_INVITEE, organization=organization, role=Membership.Role.MEMBER,
            invited_by=users[0], limited=False,
        )
        created.append(f"invitation for {DEMO_INVITEE}")
    else:
        # Only the hash of a token is stored, so the one way to print a working link again
        # is a new token for the same invitation: still one invitation, a fresh link.
        # Unlimited: scripts/run may start many times a day.
        invitation = invitation_resend(invitation=pending, limited=False)
    seed.invitation_link = invitation_url(invitation.token)
    return seed
