"""Organizations as the Members pages and support tools see them: no enterprise login.

The SAML-configured `acme` and `globex` of the enterprise login tests are in
tests/organizations/saml/conftest.py.
"""

import pytest


@pytest.fixture
def acme(make_organization):
    return make_organization("Acme Events", slug="acme-events")


@pytest.fixture
def globex(make_organization):
    return make_organization("Globex")
