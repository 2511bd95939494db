from django.apps import AppConfig
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organizations")

    def ready(self):
        from organizations import sso_mandatory

        login, domain = self.get_model("EnterpriseLogin"), self.get_model("EmailDomain")
        for signal, sender, receiver in [
            (pre_save, login, sso_mandatory.enterprise_login_before_save),
            (post_save, login, sso_mandatory.enterprise_login_after_save),
            (pre_save, domain, sso_mandatory.email_domain_before_save),
            (post_save, domain, sso_mandatory.email_domain_after_save),
        ]:
            signal.connect(receiver, sender=sender, dispatch_uid=receiver.__qualname__)
