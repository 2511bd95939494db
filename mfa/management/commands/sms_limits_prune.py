from django.core.management.base import BaseCommand

from mfa.sending import sms_limit_keys_prune


class Command(BaseCommand):
    help = (
        "Delete the SMS limit keys (one per member, number, block of numbers and IP that "
        "text messages were sent for) that no send has used within the longest limit "
        "window. Safe while the site runs; run it daily."
    )

    def handle(self, *args, **options):
        deleted = sms_limit_keys_prune()
        self.stdout.write(f"{deleted} SMS limit key{'' if deleted == 1 else 's'} deleted.")
