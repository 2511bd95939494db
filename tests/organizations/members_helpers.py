"""Helpers of the Members, phone reset, Activity and support-admin tests (plain functions;
the fixtures they build on are in tests/conftest.py, the helpers every app's tests share in
tests/helpers.py)."""


def lands_on_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/signin/?next=")
