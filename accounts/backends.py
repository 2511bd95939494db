from django.contrib.auth.backends import ModelBackend

from accounts.models import User, normalize_email, user_by_pk
from accounts.password_lock import password_failure_record, password_locked, password_success_record
from core.http import client_of


class EmailBackend(ModelBackend):
    """Django's model backend with the email matched without regard to case, and the wrong
    passwords in a row counted (accounts.password_lock)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        email = normalize_email(username)
        user = super().authenticate(request, username=email, password=password, **kwargs)
        if user is not None:
            password_success_record(user)
        elif password is not None and email:
            # Also a right password of a locked account: the count is past the limit anyway.
            password_failure_record(email=email, **client_of(request))
        return user

    def user_can_authenticate(self, user):
        # A locked password is refused after it was checked, as an inactive account is, so
        # that a locked account takes as long to answer as any other.
        return super().user_can_authenticate(user) and not password_locked(user)

    def get_user(self, user_id):
        # The lock is on the password, not on the account: a session that a passkey (both
        # factors) or enterprise login started stays signed in while the password is locked,
        # as Django's own check of each request would otherwise sign it out at once. An
        # inactive account is still nobody's.
        user = user_by_pk(user_id)
        return user if user is not None and super().user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        user = await User._default_manager.filter(pk=user_id).afirst()
        return user if user is not None and super().user_can_authenticate(user) else None
