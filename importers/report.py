"""The report every importer returns, and the rules all importers share.

Every importer (grid boundaries, buildings, 12345 hotline exports) is a plain function taking a
parameters object (importers/params.py) and returning a report built on `ImportReport`:

- Each row of the file is *created*, *updated* or *unchanged* — listed by its key (grid code,
  building id, hotline order id) — or *rejected*: a `Rejection` names the row, the column at
  fault and what is wrong. A row can be rejected for several reasons; each is listed.
- A file that cannot be imported at all (unreadable, a column missing, no CRS) is the report's
  `failure`, never an exception: bad input never ends in a traceback.
- All or nothing: one rejection, failure or blocking problem and nothing is written.
- Dry run unless `commit`: the write runs in a transaction that is rolled back
  (`write_atomically`), so a dry run reports exactly what a commit would do.
- `seconds` times each step (`with report.step("validate"): …`).
- `lines()` is the one way to print a report (the management commands print it) and `as_dict()`
  the one way to save it (`--report-json`). Importers add their own fields by subclassing and
  their own lines through `details()`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass(frozen=True)
class Rejection:
    """One reason a row cannot be imported."""

    row: int  # where the user finds it: in a table the row number (the header is row 1)
    message: str
    field: str = ""  # the column at fault as the file names it; "" for the row as a whole
    key: str = ""  # the row's identifier (code, id) when it has one

    def __str__(self) -> str:
        return _("row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


@dataclass(frozen=True)
class FeatureRejection(Rejection):
    """A rejected feature of a GIS layer: `row` is its 0-based index, as GIS tools count."""

    def __str__(self) -> str:
        return _("feature %(index)d (code %(code)s): %(reason)s") % {
            "index": self.row,
            "code": self.key or "?",
            "reason": self.message,
        }


@dataclass
class ImportReport:
    path: str = ""
    rows: int = 0  # rows (features) in the file
    dry_run: bool = True
    created: list[str] = field(default_factory=list)  # keys, in file order
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    failure: str = ""  # why the file as a whole was refused
    committed: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # per step, in order

    LISTED: ClassVar[int] = 100  # problems `lines()` prints; `as_dict()` has them all

    # --- collecting ---------------------------------------------------------------------------

    def reject(self, row: int, message: str, field: str = "", key: str = "") -> None:
        self.rejected.append(Rejection(int(row), message, field, key))

    def reject_rows(self, rows: Iterable[int], messages: str | Iterable[str],
                    field: str = "") -> None:
        """One rejection per row; `messages` is one text for all or one per row."""
        rows = list(rows)
        texts = [messages] * len(rows) if isinstance(messages, str) else list(messages)
        self.rejected += [Rejection(int(r), m, field) for r, m in zip(rows, texts, strict=True)]

    def fail(self, message: str) -> None:
        """Refuse the whole file: no row counts as written, whatever was classified before."""
        self.failure = message
        self.committed = False
        self.created, self.updated, self.unchanged = [], [], []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    # --- reading ------------------------------------------------------------------------------

    def blocking(self) -> list[str]:
        """Problems beyond single rows that stop the import (topology, for grids)."""
        return []

    @property
    def ok(self) -> bool:
        return not self.failure and not self.rejected and not self.blocking()

    @property
    def errors(self) -> list[str]:
        """Every message that stops the import, the file's first, then by row."""
        out = [self.failure] if self.failure else []
        out += [str(r) for r in sorted(self.rejected, key=lambda r: r.row)]
        return out + self.blocking()

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejected})

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "rejected": self.rejected_rows,
        }

    def verdict(self) -> str:
        if not self.ok:
            return _("nothing imported")
        return _("imported") if self.committed else _("would import (dry run)")

    # --- printing -----------------------------------------------------------------------------

    def details(self) -> list[str]:
        """The importer's own lines, printed between the problems and the timings."""
        return []

    def summary(self) -> str:
        return _(
            "%(file)s: %(n)d rows — %(verb)s: %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged, %(rejected)d rejected"
        ) % {"file": Path(self.path).name, "n": self.rows, "verb": self.verdict(),
             **self.counts()}

    def lines(self) -> list[str]:
        """Problems (the first LISTED), details, timings, and the summary as the last line."""
        errors = self.errors
        out = errors[: self.LISTED]
        if len(errors) > self.LISTED:
            out.append(_("… and %(n)d more problems (--report-json lists them all)")
                       % {"n": len(errors) - self.LISTED})
        out += self.details()
        if self.seconds:
            steps = [f"{name} {s:.2f} s" for name, s in self.seconds.items()]
            total = sum(self.seconds.values())
            out.append(_("time: %(steps)s; total %(total)s s")
                       % {"steps": ", ".join(steps), "total": f"{total:.2f}"})
        out.append(self.summary())
        return out

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejected"] = [dict(asdict(r), text=str(r)) for r in self.rejected]
        data.update(ok=self.ok, counts=self.counts(), errors=self.errors)
        return data


def write_atomically(report: ImportReport, commit: bool, write: Callable[[], None]) -> None:
    """Run `write` in one transaction and keep it only when `commit` and the report is still ok
    afterwards (`write` may add blocking problems). A database error (a constraint the checks
    did not foresee, a concurrent import of the same rows) becomes the report's failure."""
    try:
        with transaction.atomic():
            write()
            if commit and report.ok:
                report.committed = True
            else:
                transaction.set_rollback(True)
    except (DatabaseError, psycopg.Error) as exc:  # raw-cursor steps (COPY) raise psycopg's own
        report.fail(_("the database refused the import, nothing was written: %(reason)s")
                    % {"reason": first_line(exc)})


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
