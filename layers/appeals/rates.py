"""The closed-loop rates, each defined once: completion (办结率), on time (按期办结率),
satisfaction (满意率) and redo (返工率).

A rate is one count of appeals over another. Every count is a condition on one appeal row, with
the same column names in `layers_appeal` and in the analytics fact table (status, on_time,
satisfaction, redo_count), so the statistics (layers.appeals.stats) and the map layers
(layers.analytics.heat, per-grid rates and the reports built on them) write their SQL with
`count_sql()` and turn the counts into rates with `rates()`. A grid's completion rate is then
the same number on the dashboard's figures, its choropleth and the map report.

    received           every appeal in the scope and period
    completed          status resolved, checked or closed (办结)
    completion_rate    completed / received
    on_time_rate       completed with on_time / completed with on_time set
    satisfaction_rate  (satisfied + basically satisfied) / rated (any status)
    redo_rate          completed and redone at least once (redo_count > 0) / completed

`on_time` is the stored column `resolved_at <= due_at`: NULL while there is no deadline or no
resolution, so appeals completed without a deadline are left out of the on-time rate rather
than counted as late. A rate is rounded to 4 decimals; a rate over nothing is None (shown as
"—"), never 0. Closed (结案: checked and rated or auto-closed) is a count of its own, not a
rate: "completed" is the figure the rates use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from layers.appeals.models import COMPLETED_STATUSES, Satisfaction

COMPLETED = tuple(s.value for s in COMPLETED_STATUSES)
SATISFIED = (Satisfaction.SATISFIED.value, Satisfaction.BASICALLY_SATISFIED.value)


def _sql_list(values: Iterable[str]) -> str:
    # Literals from the code's own enums (no user input, no '%'), so the expressions carry no
    # parameters and fit both paramstyles (stats uses %(name)s, the map layers %s).
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# Count name → the condition on one row; {a} is the table alias with its dot, or nothing.
COUNTS: dict[str, str] = {
    "received": "",
    "completed": f"{{a}}status IN {_sql_list(COMPLETED)}",
    "timed": f"{{a}}status IN {_sql_list(COMPLETED)} AND {{a}}on_time IS NOT NULL",
    "on_time": f"{{a}}status IN {_sql_list(COMPLETED)} AND {{a}}on_time",
    "rated": "{a}satisfaction <> ''",
    "satisfied": f"{{a}}satisfaction IN {_sql_list(SATISFIED)}",
    "redone": f"{{a}}status IN {_sql_list(COMPLETED)} AND {{a}}redo_count > 0",
}


@dataclass(frozen=True)
class Rate:
    name: str
    numerator: str  # a key of COUNTS
    denominator: str


RATES: dict[str, Rate] = {r.name: r for r in (
    Rate("completion_rate", "completed", "received"),
    Rate("on_time_rate", "on_time", "timed"),
    Rate("satisfaction_rate", "satisfied", "rated"),
    Rate("redo_rate", "redone", "completed"),
)}


def counts_for(rate_names: Iterable[str]) -> tuple[str, ...]:
    """The counts the named rates need, in COUNTS order."""
    needed = {c for name in rate_names for c in (RATES[name].numerator,
                                                  RATES[name].denominator)}
    return tuple(c for c in COUNTS if c in needed)


def condition(name: str, alias: str = "a") -> str:
    """The SQL condition of count `name` on a row of `alias` ("" for unqualified columns)."""
    return COUNTS[name].format(a=f"{alias}." if alias else "") or "true"


def count_sql(names: Iterable[str], alias: str = "a") -> str:
    """`count(*) FILTER (WHERE …) AS name, …` for the named counts over rows of `alias`."""
    return ",\n       ".join(
        f"count(*) FILTER (WHERE {condition(name, alias)}) AS {name}" if COUNTS[name]
        else f"count(*) AS {name}" for name in names)


def rate(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 decimals; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def rates(counts: Mapping[str, int], names: Iterable[str] = RATES) -> dict[str, float | None]:
    """The named rates from a row of counts (as produced by `count_sql`)."""
    return {name: rate(counts[RATES[name].numerator], counts[RATES[name].denominator])
            for name in names}
