"""Binary COPY payloads from numpy columns land as the same values, NULLs included."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from geogrid import copybin

pytestmark = pytest.mark.django_db


def test_columns_round_trip_through_copy():
    n = 1000
    rng = np.random.default_rng(1)
    a = np.arange(n, dtype=np.int64) * 10**10
    b = rng.integers(-(2**31), 2**31 - 1, n).astype(np.int32)
    c = rng.integers(-100, 100, n).astype(np.int16)
    d = rng.normal(size=n)
    e = rng.random(n) < 0.5
    null_b, null_d = rng.random(n) < 0.3, rng.random(n) < 0.1
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE _c (a int8, b int4, c int2, d float8, e bool)")
        copybin.copy_columns(cursor, "COPY _c FROM STDIN (FORMAT BINARY)",
                             [(a, "int8"), (b, "int4"), (c, "int2"), (d, "float8"),
                              (e, "bool")], nulls=[None, null_b, None, null_d, None])
        cursor.execute("SELECT a, b, c, d, e FROM _c ORDER BY a")
        rows = cursor.fetchall()
    assert len(rows) == n
    assert [r[0] for r in rows] == a.tolist()
    assert [r[1] for r in rows] == [None if m else v for v, m in zip(b.tolist(), null_b,
                                                                     strict=True)]
    assert [r[2] for r in rows] == c.tolist()
    assert [r[3] for r in rows] == [None if m else v for v, m in zip(d.tolist(), null_d,
                                                                     strict=True)]
    assert [r[4] for r in rows] == e.tolist()


def test_unequal_columns_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        copybin.rows([(np.zeros(2), "float8"), (np.zeros(3), "float8")])
