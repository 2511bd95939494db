"""Emails to people: a subject, a text part and an HTML part, all from templates, sent after
the response.

`send_email` only stores a task (django.tasks, settings.TASKS: django-tasks-db's table);
the worker (`manage.py db_worker`, started beside the web server) renders and sends it.
So a page that emails someone answers in the time of one INSERT, and Forgot password or an
invitation takes as long for an address with an account as for one without (issue 10;
benchmarks/enumeration.py measures it).

Mail is retried, never lost: a send that fails schedules the next attempt after
settings.EMAIL_RETRY_DELAYS, and the last one leaves a failed task in the table, which
`manage.py emails_retry` sends again. A task holds links with tokens (a password reset,
an invitation) that are otherwise stored only as hashes, so its row is deleted as soon as
its email is sent or handed on to the next attempt (task_finished_forget): the table holds
exactly the mail still to send.
"""

import logging
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.tasks import TaskContext, TaskResultStatus, task, task_backends
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from accounts.languages import recipient_language

logger = logging.getLogger(__name__)


class EmailRetrying(Exception):
    """The send failed and the next attempt is scheduled: this attempt's row may go."""


def send_email(*, to: str, template: str, context: dict, language: str = "") -> None:
    """Send `emails/<template>_subject.txt`, `.txt` and `.html`, rendered with `context`,
    after the response.

    Every template also gets `site_url`, for absolute links. `context` holds plain values,
    datetimes and model instances (the task reads those again by primary key, so the email
    shows them as they are when it is sent). `language` is the recipient's (their stored
    one, or an invitation's); blank, the language of the request sending it. It is decided
    here and goes into the task, because the worker has no request to take it from.
    """
    email_deliver.enqueue(
        to=to, template=template, values=_pack(context),
        language=recipient_language(language=language),
    )


def send_email_on_commit(*, to: str, template: str, context: dict, language: str = "") -> None:
    """send_email once the transaction commits, so that no email tells of a change that was
    rolled back; robust (a failure is logged), so that an email not stored does not undo the
    change that it tells of."""
    transaction.on_commit(
        lambda: send_email(to=to, template=template, context=context, language=language),
        robust=True,
    )


@task(takes_context=True)
def email_deliver(context: TaskContext, *, to: str, template: str, values: dict,
                  attempt: int = 1, language: str = "") -> None:
    """The task: render and send one email in `language`; on a failed send, schedule the
    next attempt."""
    template_context = _unpack(values)
    if template_context is None:
        logger.warning("Email %s to %s not sent: what it is about was deleted.", template, to)
        return
    # A task stored before languages existed has none: the site's default, never the
    # worker's own active language.
    with translation.override(language or settings.LANGUAGE_CODE):
        message = _render(to=to, template=template, context=template_context)
    try:
        message.send()
    except Exception as error:
        delays = settings.EMAIL_RETRY_DELAYS
        if attempt > len(delays) or not context.task_result.task.get_backend().supports_defer:
            raise  # the failed task stays in the table, for manage.py emails_retry
        email_deliver.using(run_after=timezone.now() + delays[attempt - 1]).enqueue(
            to=to, template=template, values=values, attempt=attempt + 1, language=language
        )
        raise EmailRetrying(f"attempt {attempt} failed; attempt {attempt + 1} scheduled") \
            from error


def _render(*, to: str, template: str, context: dict) -> EmailMultiAlternatives:
    context = {"site_url": settings.SITE_URL, **context}
    # A header cannot hold a line break; templates end with one and names might hold one.
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def task_finished_forget(sender, task_result, **kwargs) -> None:
    """task_finished receiver: a task done leaves no row in django-tasks-db's table, nor
    does an email attempt handed on to the next. Nobody here reads a task's result, and an
    email's row holds the tokens of its links (see the module docstring)."""
    # By the backend's name: django-tasks-db sends its backend as `sender`, the class or
    # an instance depending on the outcome.
    if not isinstance(task_backends[task_result.backend], DatabaseBackend):
        return
    handed_on = task_result.status == TaskResultStatus.FAILED and task_result.errors and (
        task_result.errors[-1].exception_class_path == f"{__name__}.EmailRetrying"
    )
    if task_result.status == TaskResultStatus.SUCCESSFUL or handed_on:
        DBTaskResult.objects.filter(id=task_result.id).delete()


def emails_failed_retry() -> int:
    """Send again every email whose attempts all failed (manage.py emails_retry): each
    starts a new round of attempts, and its failed task goes. Returns how many."""
    failed = DBTaskResult.objects.failed().filter(task_path=email_deliver.module_path)
    retried = 0
    for row in failed.iterator():
        with transaction.atomic():
            kwargs = {**row.args_kwargs["kwargs"], "attempt": 1}
            email_deliver.using(backend=row.backend_name).enqueue(**kwargs)
            row.delete()
        retried += 1
    return retried


# A task's arguments are stored as JSON: model instances go as references, datetimes as text.

def _pack(context: dict) -> dict:
    packed = {}
    for name, value in context.items():
        if isinstance(value, models.Model):
            packed[name] = {"model": value._meta.label_lower, "pk": value.pk}
        elif isinstance(value, datetime):
            packed[name] = {"datetime": value.isoformat()}
        elif value is None or isinstance(value, str | int | float | bool):
            packed[name] = {"value": value}
        else:
            raise TypeError(f"Email context value {name}={value!r} cannot be stored in a task.")
    return packed


def _unpack(packed: dict) -> dict | None:
    """The context again; None if a model instance in it no longer exists."""
    context = {}
    for name, item in packed.items():
        if "model" in item:
            model = apps.get_model(item["model"])
            context[name] = model._default_manager.filter(pk=item["pk"]).first()
            if context[name] is None:
                return None
        elif "datetime" in item:
            context[name] = datetime.fromisoformat(item["datetime"])
        else:
            context[name] = item["value"]
    return context
