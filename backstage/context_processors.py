"""What every page of the signed-in shell needs: the member's organizations and workspaces."""

from dataclasses import dataclass, field

from django.utils.functional import SimpleLazyObject

from organizations.models import Membership


@dataclass
class SidebarOrganization:
    name: str
    slug: str
    is_admin: bool
    workspaces: list[dict] = field(default_factory=list)


def sidebar_organizations(user) -> list[SidebarOrganization]:
    """The member's organizations by name, each with its workspaces by name: one query.

    Memberships joined to their organization, and left-joined to its workspaces so that an
    organization without any still shows.
    """
    rows = (
        Membership.objects.filter(user=user)
        .values(
            "role",
            "organization_id",
            "organization__name",
            "organization__slug",
            "organization__workspaces__name",
            "organization__workspaces__slug",
        )
        .order_by("organization__name", "organization_id", "organization__workspaces__name")
    )
    organizations: dict[int, SidebarOrganization] = {}
    for row in rows:
        organization = organizations.get(row["organization_id"])
        if organization is None:
            organization = organizations[row["organization_id"]] = SidebarOrganization(
                name=row["organization__name"],
                slug=row["organization__slug"],
                is_admin=row["role"] == Membership.Role.ADMIN,
            )
        if row["organization__workspaces__slug"] is not None:
            organization.workspaces.append(
                {
                    "name": row["organization__workspaces__name"],
                    "slug": row["organization__workspaces__slug"],
                }
            )
    return list(organizations.values())


def sidebar(request):
    """`sidebar_organizations`: for a signed-in member their organizations, else none.

    Lazy, so that a page that does not draw the sidebar (a signed-out page, an error page)
    costs no query, not even the one that loads the user.
    """

    def organizations():
        user = request.user
        return sidebar_organizations(user) if user.is_authenticated else []

    return {"sidebar_organizations": SimpleLazyObject(organizations)}
