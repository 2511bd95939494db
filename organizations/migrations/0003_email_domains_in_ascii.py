"""Claimed domains entered in Unicode before they were stored in their xn-- form."""

from django.db import migrations

from accounts.models import domain_to_ascii


def domains_to_ascii(apps, schema_editor):
    EmailDomain = apps.get_model("organizations", "EmailDomain")
    for claimed in EmailDomain.objects.all():
        if claimed.domain.isascii():
            continue
        ascii_form = domain_to_ascii(claimed.domain)
        # "" is not a domain after all: left for support staff to correct in admin. Both
        # spellings claimed: the row already in ASCII, which lookups find, is kept.
        if (
            not ascii_form
            or EmailDomain.objects.filter(domain=ascii_form).exists()
        ):
            continue
        claimed.domain = ascii_form
        claimed.save(update_fields=["domain"])


class Migration(migrations.Migration):
    dependencies = [("organizations", "0002_enterprise_login")]

    operations = [migrations.RunPython(domains_to_ascii, migrations.RunPython.noop)]
