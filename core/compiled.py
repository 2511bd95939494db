"""Hot queries that the ORM builds once per database connection, then runs with new values.

On the sign-in's small lookups, building a query (filter(), then the compiler's SQL) took
the ORM 10 to 30 times longer than SQLite took to answer it: about 300 µs against 10 to 30
(issue 12's profile). A compiled query keeps what the ORM built, its SQL, where each value
goes among its parameters and how its columns are read back (the fields' and the database's
converters), and runs that again. The query is still written once, with the ORM, so it
follows the models and whichever database it runs on.

    phone_of = compiled_select(
        lambda user_id: SmsDevice.objects.filter(user_id=user_id).values_list("pk", "number"),
        user_id=int,
    )
    phone_of.first(user_id=7)  # (3, PhoneNumber(...)) or None

How: the query is built with a marker for each named value (a number, a text or a time that
no caller passes), and the markers are found among the parameters of the SQL; the other
parameters are the query's constants. So only values that the ORM passes through as
parameters can be named, and a query whose SQL depends on a value (None becomes IS NULL)
is built for the values that the markers stand for: pass no None.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from itertools import count
from types import SimpleNamespace

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression, GenericIPAddressField, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import UpdateQuery
from django.db.models.sql.subqueries import InsertQuery
from django.db.transaction import TransactionManagementError, mark_for_rollback_on_error

_serial = count(1)


class IPAddress(str):
    """The kind of a value that goes where a GenericIPAddressField's does."""


def _marker(kind: type, n: int):
    if kind is IPAddress:
        return f"2001:db8::{n:x}"  # the documentation prefix, written as the field writes it
    if kind is int:
        return -7_340_000_000_000 - n  # no primary key or count is negative
    if kind is str:
        return f"\x00compiled-marker-{n}\x00"
    if kind is datetime:
        return datetime(2999, 12, 31, 23, 59, 58, n % 1_000_000, tzinfo=UTC)
    raise TypeError(
        f"a compiled query's values are int, str, datetime or IPAddress, not {kind!r}"
    )


class _Compiled:
    """What one connection's ORM built for one query."""

    def __init__(self, sql, slots, converters, col_count, locks):
        self.sql = sql
        self.slots = slots  # per parameter: (name, adapt) or (None, constant)
        self.converters = converters  # [(position, [converter, ...], expression)]
        self.col_count = col_count
        self.locks = locks  # select_for_update: only inside a transaction

    def params(self, connection, values):
        params = []
        for name, payload in self.slots:
            if name is None:
                params.append(payload)
                continue
            value = values[name]
            if value is None:
                raise ValueError(f"{name}: a compiled query takes no None")
            params.append(payload(connection, value) if payload else value)
        return params


class _CompiledQuery:
    def __init__(self, build: Callable[..., object], kinds: dict[str, type], using: str):
        self.build = build
        self.kinds = kinds
        self.using = using
        self.key = f"compiled-{next(_serial)}"

    def _compiled(self, connection) -> _Compiled:
        # One per connection object (there is one per thread), so a compiled query never
        # crosses threads, and a connection to another database builds its own.
        cache = connection.__dict__.setdefault("compiled_queries", {})
        compiled = cache.get(self.key)
        if compiled is None:
            compiled = cache[self.key] = self._compile(connection)
        return compiled

    def _compile(self, connection) -> _Compiled:
        markers = {name: _marker(kind, next(_serial)) for name, kind in self.kinds.items()}
        compiler, locks = self._compiler(markers)
        sql, params = compiler.as_sql()
        found = {}  # a marker's form among the parameters -> (name, how to adapt the value)
        for name, marker in markers.items():
            adapt = _ADAPT.get(self.kinds[name])
            found[marker] = (name, adapt)
            if adapt:
                found[adapt(connection, marker)] = (name, adapt)
        slots, seen = [], set()
        for param in params:
            try:
                hit = found.get(param)
            except TypeError:  # unhashable: a constant of the query
                hit = None
            if hit is None:
                slots.append((None, param))
            else:
                slots.append(hit)
                seen.add(hit[0])
        if missing := set(markers) - seen:
            raise ValueError(f"the query passes no parameter for {sorted(missing)}")
        col_count = getattr(compiler, "col_count", 0)  # an UPDATE reads no columns
        fields = [s[0] for s in compiler.select[:col_count]] if col_count else []
        converters = [
            (pos, convs, expression)
            for pos, (convs, expression) in compiler.get_converters(fields).items()
        ]
        return _Compiled(sql, slots, converters, col_count, locks)

    def _compiler(self, markers):
        raise NotImplementedError


def _adapt_datetime(connection, value):
    return connection.ops.adapt_datetimefield_value(value)


def _adapt_ip(connection, value):
    return connection.ops.adapt_ipaddressfield_value(_IP_FIELD.get_prep_value(value))


_IP_FIELD = GenericIPAddressField()  # its get_prep_value writes IPv6 addresses alike
_ADAPT = {datetime: _adapt_datetime, IPAddress: _adapt_ip}  # as the ORM passes such values


class CompiledSelect(_CompiledQuery):
    """A values_list() query, compiled (the module's doc)."""

    def _compiler(self, markers):
        queryset = self.build(**markers)
        if not isinstance(queryset, QuerySet) or queryset._fields is None:
            raise TypeError("compiled_select's query is a values_list() QuerySet")
        return queryset.query.get_compiler(self.using), bool(queryset.query.select_for_update)

    def all(self, **values) -> list[tuple]:
        connection = connections[self.using]
        compiled = self._compiled(connection)
        if compiled.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with mark_for_rollback_on_error(self.using), connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(connection, values))
            rows = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row[: compiled.col_count]) for row in rows]
        result = []
        for row in rows:
            row = list(row[: compiled.col_count])
            for pos, convs, expression in compiled.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            result.append(tuple(row))
        return result

    def first(self, **values) -> tuple | None:
        """The one row of a query that finds at most one (slice it [:1]), or None."""
        rows = self.all(**values)
        return rows[0] if rows else None


class CompiledUpdate(_CompiledQuery):
    """An update(): build returns (queryset, {field: value or expression})."""

    def _compiler(self, markers):
        queryset, changes = self.build(**markers)
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)
        query.clear_select_clause()
        if query.related_updates:
            raise TypeError("a compiled update changes one table")
        return query.get_compiler(self.using), False

    def __call__(self, **values) -> int:
        """The number of rows changed."""
        connection = connections[self.using]
        compiled = self._compiled(connection)
        with mark_for_rollback_on_error(self.using), connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(connection, values))
            return cursor.rowcount


@cache
def columns(model) -> tuple[str, ...]:
    """The names of all `model`'s columns, in its fields' order: for values_list() (after a
    relation's name and "__" for a joined model's), and for model_from_row()."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def model_from_row(model, row, *, using: str = DEFAULT_DB_ALIAS):
    """An instance of `model` from the values of its `columns()`, as the ORM makes one from a
    row it read (saved, so save(update_fields=...) writes only those)."""
    return model.from_db(using, columns(model), row)


def compiled_select(build, *, using: str = DEFAULT_DB_ALIAS, **kinds: type) -> CompiledSelect:
    """`build(**values)` → a values_list() QuerySet; `kinds`: each value's type."""
    return CompiledSelect(build, kinds, using)


def saved(model, rowcount: int) -> None:
    """For a compiled update that stands in for save(update_fields=...), given the rows it
    changed: what that save() raises when the row is gone (deleted since it was read)."""
    if not rowcount:
        raise model.NotUpdated("Save with update_fields did not affect any rows.")


def compiled_update(build, *, using: str = DEFAULT_DB_ALIAS, **kinds: type) -> CompiledUpdate:
    """`build(**values)` → (QuerySet, {field: new value}); `kinds`: each value's type.

    Like QuerySet.update(), it sends no save signals: in place of a save(update_fields=...)
    it is only for a model without save receivers (tests/core/test_compiled.py checks the
    models where it stands for one)."""
    return CompiledUpdate(build, kinds, using)


# --- Inserts ---------------------------------------------------------------------------------


def _has_save_receivers(model) -> bool:
    return pre_save.has_listeners(model) or post_save.has_listeners(model)


class _InsertSlot(Expression):
    """Stands in the ORM's INSERT for one row's value of one field, so that compiling finds
    where that value goes: a field passes an expression through as it is (get_db_prep_save),
    and this one compiles to a single parameter, itself."""

    contains_column_references = contains_aggregate = contains_over_clause = False

    def __init__(self, row, field):
        super().__init__()
        self.row, self.target = row, field

    def resolve_expression(self, *args, **kwargs):
        return self

    def as_sql(self, compiler, connection):
        return "%s", [self]


class CompiledInsert:
    """model.save()'s INSERT of a new instance (or bulk_create's, of several), compiled
    (compiled_insert's doc)."""

    def __init__(self, model, *, using, unique_fields, update_fields):
        meta = model._meta
        if meta.parents or meta.auto_field is None or meta.order_with_respect_to:
            # save() writes more than one table's row for these, or a key or order it reads.
            raise TypeError("a compiled insert writes one table whose primary key is automatic")
        self.model, self.using = model, using
        # What save() writes of a new instance (Model._save_table): every column but the
        # automatic key and generated ones.
        self.fields = [
            f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
        ]
        if any(f.has_db_default() for f in self.fields):
            raise TypeError("a compiled insert writes no field with a database default")
        self.unique_fields = [meta.get_field(name) for name in unique_fields]
        self.update_fields = [meta.get_field(name) for name in update_fields]
        self.key = f"compiled-{next(_serial)}"

    def _compiled(self, connection, rows: int, returning: bool):
        cache = connection.__dict__.setdefault("compiled_queries", {})
        key = (self.key, rows, returning)
        compiled = cache.get(key)
        if compiled is None:
            compiled = cache[key] = self._compile(connection, rows, returning)
        return compiled

    def _compile(self, connection, rows: int, returning: bool):
        # Asked here, not at import: receivers connect once the apps are loaded.
        if _has_save_receivers(self.model):
            raise TypeError(
                f"{self.model.__name__} has save receivers, which a compiled insert does not send"
            )
        on_conflict = OnConflict.UPDATE if self.update_fields else None
        query = InsertQuery(
            self.model, on_conflict=on_conflict,
            update_fields=self.update_fields, unique_fields=self.unique_fields,
        )
        # Rows of markers only (raw: the compiler reads them as they are, no pre_save()).
        probes = [
            SimpleNamespace(**{f.attname: _InsertSlot(row, f) for f in self.fields})
            for row in range(rows)
        ]
        query.insert_values(self.fields, probes, raw=True)
        compiler = query.get_compiler(self.using)
        returning_fields = [self.model._meta.pk] if returning else None
        compiler.returning_fields = returning_fields
        can_return = connection.features.can_return_columns_from_insert
        ((sql, params),) = compiler.as_sql()
        slots = [(p.row, p.target) if isinstance(p, _InsertSlot) else (None, p) for p in params]
        found = sum(row is not None for row, _ in slots)
        if found != rows * len(self.fields):
            raise TypeError(f"{self.model.__name__}'s INSERT does not take each value once")
        converters = []
        if returning:
            pk = self.model._meta.pk
            column = pk.get_col(self.model._meta.db_table)
            converters = list(compiler.get_converters([column]).values())
        return sql, slots, can_return and returning, compiler.returning_params, converters

    def _execute(self, objs, returning):
        connection = connections[self.using]
        sql, slots, fetch, returning_params, converters = self._compiled(
            connection, len(objs), returning
        )
        # Each field's value as save() makes it: pre_save() (auto_now_add), then the field's
        # own preparation for the database.
        prepared = [
            {field: field.get_db_prep_save(field.pre_save(obj, add=True), connection)
             for field in self.fields}
            for obj in objs
        ]
        params = [payload if row is None else prepared[row][payload] for row, payload in slots]
        with mark_for_rollback_on_error(self.using), connection.cursor() as cursor:
            cursor.execute(sql, params)
            if not returning:
                return None
            if fetch:
                (value,) = connection.ops.fetch_returned_rows(cursor, returning_params)[0]
            else:
                value = connection.ops.last_insert_id(
                    cursor, self.model._meta.db_table, self.model._meta.pk.column
                )
        for convs, expression in converters:
            for converter in convs:
                value = converter(value, expression, connection)
        return value

    def __call__(self, obj):
        """Write `obj`, a new instance, as obj.save() would, and give it its primary key;
        without save()'s signals nor any save() of the model's own: only for a model that
        nobody listens to, and whose save() adds no rule for a new instance."""
        if not obj._state.adding or obj.pk is not None:
            raise ValueError("a compiled insert writes a new instance")
        obj.pk = self._execute([obj], returning=True)
        obj._state.adding, obj._state.db = False, self.using
        return obj

    def many(self, objs) -> None:
        """Write new instances in one INSERT (with its ON CONFLICT), as bulk_create() would,
        without reading their keys back."""
        if objs:
            self._execute(list(objs), returning=False)


def compiled_insert(
    model, *, using: str = DEFAULT_DB_ALIAS, unique_fields=(), update_fields=()
) -> CompiledInsert:
    """The INSERT of a new `model` instance, as save() writes it (its defaults, as
    Model.__init__ set them, each field's pre_save(): auto_now_add), built by the ORM once
    per connection (and per number of rows, for many()). With `unique_fields` and
    `update_fields`, an upsert as bulk_create(update_conflicts=True, ...) makes it.

        record = compiled_insert(SecurityEvent)
        record(SecurityEvent(kind=..., actor=user))  # the event, with its pk

    Where each value goes is found as compiled_select's are, by markers: the probe row
    holds one in each field, and the SQL's parameters say where they went. No signals are
    sent (pre_save, post_save): only for models without receivers.
    """
    return CompiledInsert(
        model, using=using, unique_fields=unique_fields, update_fields=update_fields
    )
