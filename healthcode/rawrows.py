"""Model rows from a hand-written statement, for the few reads on the door's hot paths.

The ORM builds and compiles a statement's SQL on every call; for a ``select_related`` read of
a code with its resident that compiling costs about three times the statement itself
(docs/benchmarks.md, issue 13's profiles). ``Rows`` takes the SQL written once, runs it, and
turns each row into model instances exactly as the ORM would: every column through the same
converters (JSON, dates, UUIDs, booleans on SQLite), every instance made by ``from_db`` so it
saves, refreshes and compares like one the ORM loaded. Parameters go in adapted as the ORM
adapts them (``param``).

Use it only where a profile shows the compiling; the SQL names the columns through
``columns()``, so a field added to a model is read without touching the statement.
"""

from django.db import connections
from django.db.models import Field, Value
from django.db.models.sql import Query


class Rows:
    """What one row of a statement gives: an instance of each of ``models`` (in order; None
    where a LEFT JOIN found no row), then the value of each ``extra`` column converted as
    that field's values are. The statement selects ``columns(alias, …)`` — one alias per
    model — and then the extra columns."""

    def __init__(self, *models, extra: tuple[Field, ...] = ()):
        self.models = models
        self.fields = [list(model._meta.concrete_fields) for model in models]
        self.extra = extra
        self._converters: dict[str, dict] = {}

    def columns(self, *aliases: str) -> str:
        if len(aliases) != len(self.models):
            raise ValueError("one table alias per model")
        return ", ".join(
            f'{alias}."{field.column}"'
            for alias, fields in zip(aliases, self.fields, strict=True)
            for field in fields
        )

    def _converters_for(self, connection):
        kept = self._converters.get(connection.alias)
        if kept is None:
            model = self.models[0] if self.models else None
            compiler = connection.ops.compiler("SQLCompiler")(
                Query(model), connection, connection.alias
            )
            cols = [
                field.get_col(model._meta.db_table)
                for model, fields in zip(self.models, self.fields, strict=True)
                for field in fields
            ]
            cols += [Value(None, output_field=field) for field in self.extra]
            kept = self._converters[connection.alias] = compiler.get_converters(cols)
        return kept

    def _values(self, connection, row) -> tuple:
        row = list(row)
        for position, (functions, expression) in self._converters_for(connection).items():
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        out, start = [], 0
        for model, fields in zip(self.models, self.fields, strict=True):
            values = row[start : start + len(fields)]
            start += len(fields)
            if values[fields.index(model._meta.pk)] is None:
                out.append(None)  # the outer side of a LEFT JOIN that found nothing
                continue
            names = [field.attname for field in fields]
            out.append(model.from_db(connection.alias, names, values))
        return (*out, *row[start:])

    def one(self, sql: str, params, *, using: str = "default") -> tuple | None:
        """The first row, or None if the statement found nothing."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else self._values(connection, row)


def param(model, name: str, value, using: str = "default"):
    """``value`` as a parameter compared with ``model``'s field ``name``, adapted as the ORM
    adapts it (a UUID is 32 hex characters on SQLite, a datetime naive UTC text there)."""
    field = model._meta.get_field(name)
    return field.get_db_prep_value(value, connections[using], prepared=False)


def for_update(using: str = "default") -> str:
    """`` FOR UPDATE`` where the database locks rows (PostgreSQL), "" where it cannot (SQLite
    serialises writers anyway), as ``select_for_update`` does."""
    return " FOR UPDATE" if connections[using].features.has_select_for_update else ""
