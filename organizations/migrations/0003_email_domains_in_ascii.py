"""Claimed domains entered in Unicode before they were stored in their xn-- form."""

import idna
from django.db import migrations


def domains_to_ascii(apps, schema_editor):
    EmailDomain = apps.get_model("organizations", "EmailDomain")
    for claimed in EmailDomain.objects.all():
        if claimed.domain.isascii():
            continue
        try:
            ascii_form = idna.encode(claimed.domain.rstrip("."), uts46=True).decode("ascii")
        except UnicodeError:
            continue  # not a domain after all: left for support staff to correct in admin
        # Both spellings claimed: keep the row already in ASCII, which lookups find.
        if EmailDomain.objects.filter(domain=ascii_form).exists():
            continue
        claimed.domain = ascii_form
        claimed.save(update_fields=["domain"])


class Migration(migrations.Migration):
    dependencies = [("organizations", "0002_enterprise_login")]

    operations = [migrations.RunPython(domains_to_ascii, migrations.RunPython.noop)]
