"""Mandatory enterprise login closes the door it claims: from the moment an organization's
enterprise login becomes mandatory, or it claims one more domain while mandatory, nobody
with an email at a claimed domain stays signed in with a password. Their sessions signed
in any other way than enterprise login end, half-finished sign-ins too, and their
remembered browsers are forgotten; sessions signed in through enterprise login stay.

Everyone at the domain, not only the organization's members: the password is refused to
all of them from then on (organizations.sso.enterprise_login_mandatory), so none of them
may keep a session that the password opened.

Model signals, because the switch is made in Django admin's inline forms, which save the
models themselves; every other way of saving them passes here too.
"""

from django.db.models import Q

from accounts.models import User
from accounts.services import user_sessions_end
from mfa.trust import remembered_browsers_forget
from organizations.models import EmailDomain, EnterpriseLogin, Organization


def enterprise_login_door_close(*, organization: Organization, domains: list[str]) -> int:
    """End the password sessions and remembered browsers of everyone whose email is at one
    of `domains` (claimed by `organization`); return how many people that was."""
    if not domains:
        return 0
    at_domains = Q()
    for domain in domains:
        at_domains |= Q(email__endswith=f"@{domain}")
    users = list(User.objects.filter(at_domains))
    for user in users:
        forgotten = remembered_browsers_forget(user=user)
        user_sessions_end(
            user=user, keep_enterprise_login=True, organization=organization,
            reason="enterprise_login_mandatory", browsers_forgotten=forgotten,
        )
    return len(users)


def _in_force(login: EnterpriseLogin | None) -> bool:
    return login is not None and login.enabled and login.mandatory


def enterprise_login_before_save(sender, instance, **kwargs) -> None:
    """pre_save receiver: whether the stored enterprise login was mandatory already."""
    stored = EnterpriseLogin.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._was_in_force = _in_force(stored)


def enterprise_login_after_save(sender, instance, **kwargs) -> None:
    """post_save receiver: made mandatory (or enabled while mandatory) just now."""
    if _in_force(instance) and not instance.__dict__.pop("_was_in_force", False):
        enterprise_login_door_close(
            organization=instance.organization,
            domains=list(instance.organization.domains.values_list("domain", flat=True)),
        )


def email_domain_before_save(sender, instance, **kwargs) -> None:
    """pre_save receiver: the domain as stored, if any."""
    instance._stored_domain = (
        EmailDomain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
        if instance.pk else None
    )


def email_domain_after_save(sender, instance, **kwargs) -> None:
    """post_save receiver: a domain newly claimed by an organization whose login is mandatory."""
    if instance.__dict__.pop("_stored_domain", None) == instance.domain:
        return
    login = EnterpriseLogin.objects.filter(organization_id=instance.organization_id).first()
    if _in_force(login):
        enterprise_login_door_close(organization=login.organization, domains=[instance.domain])
