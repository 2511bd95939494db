"""Emails with an international domain, stored before normalize_email spelled it in xn--."""

from django.db import migrations

from accounts.models import normalize_email


def emails_to_ascii(apps, schema_editor):
    for model, field in (("User", "email"), ("Invitation", "email")):
        rows = apps.get_model("accounts", model).objects
        for row in rows.all().only("pk", field):
            stored = getattr(row, field)
            normal = normalize_email(stored)
            # An account already stored under the other spelling keeps it: merging two
            # accounts is a decision for support staff, not for a migration.
            if normal == stored or (model == "User" and rows.filter(email=normal).exists()):
                continue
            rows.filter(pk=row.pk).update(**{field: normal})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_signin_event_kinds")]

    operations = [migrations.RunPython(emails_to_ascii, migrations.RunPython.noop)]
