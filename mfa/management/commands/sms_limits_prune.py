from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from core.limits import duration_words
from mfa.sending import sms_limit_keys_prune, sms_messages_kept_for, sms_messages_prune


class Command(BaseCommand):
    help = (
        "Delete the SMS limit keys (one per member, number, block of numbers and IP that "
        "text messages were sent for) that no send has used within the longest limit "
        "window, and the records of text messages older than SMS_MESSAGES_KEPT_FOR (90 "
        "days unless set). Safe while the site runs; run it daily."
    )

    def handle(self, *args, **options):
        # Manage.py's system checks refuse a retention shorter than the limits (mfa.E001);
        # call_command skips them, so ask again before anything is deleted.
        try:
            kept_for = sms_messages_kept_for()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        messages = sms_messages_prune()
        keys = sms_limit_keys_prune()
        self.stdout.write(f"{keys} SMS limit key{'' if keys == 1 else 's'} deleted.")
        self.stdout.write(
            f"{messages} SMS message{'' if messages == 1 else 's'} older than "
            f"{duration_words(kept_for)} deleted."
        )
