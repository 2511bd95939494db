"""Fixtures of the invitation tests: an organization, and a factory of invitations to it."""

from urllib.parse import urlparse

import pytest

from accounts.invitations import invitation_create, invitation_url
from organizations.models import Membership


@pytest.fixture
def organization(make_organization):
    return make_organization("Acme Events")


@pytest.fixture
def invite(organization):
    """Invite an email to the organization; returns the invitation and its link's path."""

    def make(email="grace@example.com", role=Membership.Role.MEMBER, invited_by=None):
        invitation = invitation_create(
            email=email, organization=organization, role=role, invited_by=invited_by
        )
        return invitation, urlparse(invitation_url(invitation.token)).path

    return make
