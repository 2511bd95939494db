"""Organizations as the Members pages and support tools see them: no enterprise login.

These `acme` and `globex` stand in for the SAML-configured ones of the parent conftest.
"""

import pytest


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme Events", slug="acme-events")


@pytest.fixture
def globex(make_organization):
    return make_organization("Globex")
