"""The report every importer returns: counts, rejections with their reasons, the printed lines
and the JSON, and the all-or-nothing write."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from importers.report import FeatureRejection, ImportReport, write_atomically


def report_with_problems() -> ImportReport:
    report = ImportReport(path="/data/in.csv", rows=5, created=["a"], unchanged=["b", "c"])
    report.reject_rows([4, 2], "地址 is empty", "地址")
    report.reject(4, "unknown category 'X'", "类别")
    return report


def test_counts_count_rejected_rows_not_reasons():
    report = report_with_problems()
    assert report.counts() == {"created": 1, "updated": 0, "unchanged": 2, "rejected": 2}
    assert not report.ok


def test_reasons_are_listed_by_row_with_the_column_at_fault():
    report = report_with_problems()
    assert report.errors == [
        "row 2: 地址 is empty",
        "row 4: 地址 is empty",
        "row 4: unknown category 'X'",
    ]
    assert [(r.row, r.field) for r in report.rejected] == [(4, "地址"), (2, "地址"), (4, "类别")]


def test_one_message_per_row_when_they_differ():
    report = ImportReport()
    report.reject_rows([3, 7], ["too long", "too short"], "内容")
    assert report.errors == ["row 3: too long", "row 7: too short"]
    with pytest.raises(ValueError):
        report.reject_rows([1, 2], ["only one"])


def test_the_summary_is_the_last_line_and_says_what_happened():
    bad = report_with_problems()
    assert bad.lines()[-1] == (
        "in.csv: 5 rows — nothing imported: 1 created, 0 updated, 2 unchanged, 2 rejected"
    )
    dry = ImportReport(path="in.csv", rows=1, created=["a"])
    assert "— would import (dry run): 1 created" in dry.lines()[-1]
    done = ImportReport(path="in.csv", rows=1, created=["a"], dry_run=False, committed=True)
    assert "— imported: 1 created" in done.lines()[-1]


def test_a_failure_comes_first_and_blocks_the_import():
    report = ImportReport(path="in.csv", created=["a"])
    report.fail("in.csv: missing columns 受理时间 (reported_at)")
    assert not report.ok and report.errors == [report.failure]
    assert report.lines()[0] == report.failure
    assert "nothing imported" in report.lines()[-1]


def test_long_lists_of_problems_are_cut_in_print_but_not_in_json():
    report = ImportReport(path="in.csv", rows=150)
    report.reject_rows(range(2, 152), "地址 is empty", "地址")
    lines = report.lines()
    assert lines[ImportReport.LISTED - 1] == "row 101: 地址 is empty"
    assert lines[ImportReport.LISTED] == "… and 50 more problems (--report-json lists them all)"
    data = json.loads(json.dumps(report.as_dict(), ensure_ascii=False))
    assert len(data["rejected"]) == 150 and data["counts"]["rejected"] == 150
    assert data["rejected"][0] == {"row": 2, "message": "地址 is empty", "field": "地址",
                                   "key": "", "text": "row 2: 地址 is empty"}
    assert data["ok"] is False and data["dry_run"] is True


def test_steps_are_timed_in_order():
    report = ImportReport(path="in.csv")
    for name in ("read", "validate", "read"):
        with report.step(name):
            pass
    assert list(report.seconds) == ["read", "validate"]
    assert report.lines()[-2].startswith("time: read 0.00 s, validate 0.00 s; total ")


def test_a_feature_is_named_by_index_and_code():
    rejection = FeatureRejection(8, "a ring is not closed", "geometry", "350427001001002")
    assert str(rejection) == "feature 8 (code 350427001001002): a ring is not closed"


@pytest.mark.django_db
class TestWriteAtomically:
    @pytest.fixture(autouse=True)
    def _table(self):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE _written (key text PRIMARY KEY)")

    def insert(self, key: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO _written VALUES (%s)", [key])

    def written(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key FROM _written ORDER BY key")
            return [key for (key,) in cursor.fetchall()]

    def test_a_dry_run_writes_nothing(self):
        report = ImportReport()
        write_atomically(report, False, lambda: self.insert("a"))
        assert report.ok and not report.committed and self.written() == []

    def test_a_commit_keeps_the_write(self):
        report = ImportReport(dry_run=False)
        write_atomically(report, True, lambda: self.insert("a"))
        assert report.committed and self.written() == ["a"]

    def test_a_problem_found_while_writing_rolls_back(self):
        report = ImportReport(dry_run=False)

        def write() -> None:
            self.insert("a")
            report.reject(2, "overlaps its neighbour")

        write_atomically(report, True, write)
        assert not report.committed and self.written() == []

    def test_a_database_error_is_a_failure_not_an_exception(self):
        report = ImportReport(dry_run=False)

        def write() -> None:
            self.insert("a")
            report.created.append("a")
            self.insert("a")

        write_atomically(report, True, write)
        assert report.counts()["created"] == 0  # what was classified was not written
        assert report.failure.startswith(
            "the database refused the import, nothing was written: duplicate key value"
        )
        assert not report.committed and self.written() == []
