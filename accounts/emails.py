"""Emails to people: a subject, a text part and an HTML part, all from templates."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from accounts.languages import recipient_language


def send_email(*, to: str, template: str, context: dict, language: str = "") -> None:
    """Send `emails/<template>_subject.txt`, `.txt` and `.html`, rendered with `context`.

    Every template also gets `site_url`, for absolute links. `language` is the recipient's
    (their stored one, or an invitation's); blank, the language of the request sending it.
    """
    with translation.override(recipient_language(language=language)):
        _send(to=to, template=template, context=context)


def _send(*, to: str, template: str, context: dict) -> None:
    context = {"site_url": settings.SITE_URL, **context}
    # A header cannot hold a line break; templates end with one and names might hold one.
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    message.send()
