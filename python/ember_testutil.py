"""Assertion helpers shared by the test files (plain functions, no Spark calls of their own)."""

from __future__ import annotations

import datetime
import decimal
import math


def _sort_key(value):
    """A total order over mixed row values: None first, then by type name, then value."""
    if value is None:
        return (0, "", 0)
    if isinstance(value, (list, tuple)):
        return (1, "seq", tuple(_sort_key(v) for v in value))
    if isinstance(value, dict):
        return (1, "map", tuple(sorted((_sort_key(k), _sort_key(v)) for k, v in value.items())))
    if isinstance(value, bool):
        return (1, "bool", int(value))
    if isinstance(value, (int, float, decimal.Decimal)):
        f = float(value)
        return (1, "num", 0.0 if math.isnan(f) else f, math.isnan(f))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return (1, type(value).__name__, value.isoformat())
    return (1, type(value).__name__, str(value))


def rows_of(df_or_rows):
    rows = df_or_rows.collect() if hasattr(df_or_rows, "collect") else df_or_rows
    return [tuple(_plain(v) for v in r) for r in rows]


def _plain(v):
    # Row (a tuple subclass) -> tuple, recursively, so comparisons do not depend on field names.
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def assert_rows(df, expected, *, ordered: bool = False):
    """Compare collected rows (as tuples) with ``expected`` (a list of tuples)."""
    actual = rows_of(df)
    expected = [tuple(e) if not isinstance(e, tuple) else e for e in expected]
    expected = [tuple(_plain(v) for v in e) for e in expected]
    if not ordered:
        actual = sorted(actual, key=lambda r: tuple(_sort_key(v) for v in r))
        expected = sorted(expected, key=lambda r: tuple(_sort_key(v) for v in r))
    assert actual == expected


def assert_schema(df, expected):
    """``expected`` is a list of (column name, Spark simpleString type)."""
    actual = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
    assert actual == list(expected)


def assert_df(df, expected_schema, expected_rows, *, ordered: bool = False):
    assert_schema(df, expected_schema)
    assert_rows(df, expected_rows, ordered=ordered)
