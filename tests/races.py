"""Races on PostgreSQL: real threads, each with its own database connection, released
together, so that the database's row locks decide (STYLE habit 12)."""

import functools
import threading
from collections.abc import Callable

from django.db import connection


def at_once(*calls: Callable[[], object]) -> list:
    """Run each call in a thread of its own, all released together; what each returned, in
    the order of `calls`. If any raised, the first of them (in that order) is raised here
    once every thread has ended.

    Each thread closes its connection as it ends: Django opens one a thread, and one left
    open would keep the test database from being dropped."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    raised: list[BaseException | None] = [None] * len(calls)

    def run(index, call):
        start.wait()
        try:
            results[index] = call()
        except BaseException as error:  # raised in the test's thread below
            raised[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in raised:
        if error is not None:
            raise error
    return results


def outcomes(*calls: Callable[[], object], error: type | tuple[type, ...], ok="ok") -> list:
    """at_once, told as what each call came to: `ok`, or the `code` of the `error` that it
    raised (an ApplicationError's; the class's name for one without, such as
    PermissionDenied); sorted, since the threads' order is chance. Any other exception is
    raised here."""

    def outcome(call):
        try:
            call()
        except error as refused:
            return getattr(refused, "code", type(refused).__name__)
        return ok

    return sorted(at_once(*(functools.partial(outcome, call) for call in calls)))
