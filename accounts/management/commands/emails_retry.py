from django.core.management.base import BaseCommand

from accounts.emails import emails_failed_retry


class Command(BaseCommand):
    help = (
        "Send again the emails whose every attempt failed (a mail server down for longer "
        "than settings.EMAIL_RETRY_DELAYS allow). The worker (manage.py db_worker) sends them."
    )

    def handle(self, *args, **options):
        retried = emails_failed_retry()
        self.stdout.write(f"{retried} email{'' if retried == 1 else 's'} queued again.")
