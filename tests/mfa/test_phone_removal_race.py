"""A member posts their right SMS code while an admin presses Remove user phone, at the same
moment (issue 10, item 1; docs/security.md 10.1e).

Real threads, each with its own PostgreSQL connection, released together; each pair is
staggered a little differently so that either side may win. Whichever does, nothing breaks
and the member ends signed out: the sign-in completed first and the removal then ended it;
or the code was refused because the phone was removed; or the removal came before the code
step, which then either found the half-done sign-in ended (sign in again) or found no phone
(asked for a new number, as any sign-in after a removal). Never a signed-in session of a
member without a phone.
"""

import time

import pytest
from django.test import Client

from mfa.models import SmsDevice
from mfa.views import SIGN_IN_AGAIN
from organizations.models import Membership
from tests.conftest import PASSWORD
from tests.helpers import page, signed_in
from tests.races import at_once

REFUSED = "Your phone was removed from your account"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("member_delay", "admin_delay"), [
    (0, 0), (0, 0), (0, 0), (0, 0.01), (0.01, 0), (0, 0.05), (0.05, 0),
])
def test_a_right_code_and_remove_user_phone_at_once_end_signed_out(
    make_member, enrolled_member, make_organization, last_code, member_delay, admin_delay
):
    acme = make_organization("Acme Events", slug="acme-events")
    grace = make_member("grace@example.com", organization=acme, role=Membership.Role.ADMIN)
    ada = enrolled_member(organization=acme)
    member = Client(raise_request_exception=False)
    assert member.post("/signin/", {"email": ada.email, "password": PASSWORD})[
        "Location"] == "/signin/code/"
    code = last_code()
    admin = signed_in(grace)
    admin.raise_request_exception = False

    def post_code():
        time.sleep(member_delay)
        return member.post("/signin/code/", {"code": code})

    def remove_phone():
        time.sleep(admin_delay)
        return admin.post(f"/organizations/acme-events/members/{ada.pk}/phone/remove/")

    signed_in_response, removal = at_once(post_code, remove_phone)

    for response in (signed_in_response, removal):
        assert response.status_code < 500
    assert removal.status_code == 302
    assert not SmsDevice.objects.filter(user=ada).exists()
    outcome = signed_in_response.status_code, signed_in_response.get("Location")
    if outcome == (302, "/"):
        pass  # the code won: the sign-in completed, and the removal that followed ended it
    elif outcome == (302, "/signin/"):
        # The removal came first and ended the half-done sign-in with the rest.
        assert str(SIGN_IN_AGAIN) in page(member.get("/signin/"))
    elif outcome == (302, "/signin/phone/"):
        pass  # the phone was gone before the code step: a new number, as after any removal
    else:
        assert outcome == (200, None), outcome
        assert REFUSED in page(signed_in_response)
    # Whichever it was, the member's browser is not signed in now.
    response = member.get("/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")
