"""Small helpers for the ORM on hot paths, and for the few hot queries written out as SQL."""

from django.db import connection
from django.db.models import QuerySet


def first_or_none(queryset: QuerySet):
    """The row of a query that finds at most one (a lookup by a unique value), or None.

    QuerySet.first() orders by the primary key to pick the first of many; building that
    ORDER BY was about a fifth of the cost of such a query, for nothing when there is one.
    """
    return next(iter(queryset[:1]), None)


# The two hot queries written out as SQL (accounts.lockout's and mfa.sending's counts: sums
# of conditions, which the ORM writes only as an aggregate(), which core.compiled does not
# take) take every name from the models, quoted, so that a renamed table or column follows;
# values always go in as parameters. Any other hot query goes through core.compiled.


def sql_table(model) -> str:
    """`model`'s table, quoted for the database."""
    return connection.ops.quote_name(model._meta.db_table)


def sql_column(model, field: str, *, qualified: bool = False) -> str:
    """The column of `model`'s `field` ("pk" for its primary key), quoted; `qualified`: with
    its table, for a query that names two."""
    meta = model._meta
    column = connection.ops.quote_name((meta.pk if field == "pk" else meta.get_field(field)).column)
    return f"{sql_table(model)}.{column}" if qualified else column


def sql_datetime(value):
    """A datetime as a parameter of written-out SQL, as the ORM would pass it."""
    return connection.ops.adapt_datetimefield_value(value)
