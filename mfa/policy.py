from django.conf import settings
from django.utils import timezone

from organizations.models import Membership


def mfa_required(user) -> bool:
    """Whether signing in with a password needs the SMS step too (SPEC journey 9).

    Support staff always need it, since Django admin is behind the same second factor.
    """
    if user.is_staff or timezone.now().date() >= settings.MFA_ENFORCEMENT_DATE:
        return True
    return Membership.objects.filter(user=user, organization__mfa_opt_in=True).exists()
