"""The ledger's guarantees (layers.volunteering.ledger), against PostgreSQL itself: one entry per
idempotency key, one reversal per entry, no balance below zero even when postings race, no
UPDATE or DELETE, and a signature chain that notices an entry changed behind its back."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from geogrid.errors import Conflict
from layers.volunteering import ledger
from layers.volunteering.models import EntryKind, PointsAccount, PointsEntry
from tests.concurrency import race
from tests.layers.volunteering.conftest import build_world, give

pytestmark = pytest.mark.django_db


def test_a_repeated_idempotency_key_writes_one_entry_and_returns_the_first(world):
    account = world.account("v1")
    first = ledger.post(account.pk, 5, EntryKind.EARN, key="k-1")
    again = ledger.post(account.pk, 5, EntryKind.EARN, key="k-1")
    assert first.created and not again.created
    assert again.entry.pk == first.entry.pk
    assert PointsEntry.objects.filter(idempotency_key="k-1").count() == 1
    account.refresh_from_db()
    assert account.balance == 5


def test_a_key_used_for_another_entry_is_a_conflict(world):
    account = world.account("v1")
    ledger.post(account.pk, 5, EntryKind.EARN, key="k-2")
    with pytest.raises(Conflict):
        ledger.post(account.pk, 6, EntryKind.EARN, key="k-2")
    with pytest.raises(Conflict):
        ledger.post(world.account("v2").pk, 5, EntryKind.EARN, key="k-2")
    assert PointsEntry.objects.count() == 1


def test_an_overspend_is_refused_and_changes_nothing(world):
    account = world.account("v1")
    give(account, 10, "g")
    with pytest.raises(Conflict, match="Not enough points"):
        ledger.post(account.pk, -11, EntryKind.REDEEM, key="r")
    account.refresh_from_db()
    assert account.balance == 10 and PointsEntry.objects.count() == 1


def test_a_second_reversal_is_a_conflict_and_a_reversal_is_not_reversed(world):
    account = world.account("v1")
    give(account, 10, "g")
    entry = PointsEntry.objects.get(idempotency_key="g")
    reversal = ledger.reverse(entry, key="rev-1").entry
    with pytest.raises(Conflict, match="already been reversed"):
        ledger.reverse(entry, key="rev-2")
    with pytest.raises(Conflict):
        ledger.reverse(reversal, key="rev-3")
    account.refresh_from_db()
    assert account.balance == 0
    assert ledger.verify(account) == []


def test_the_database_refuses_a_second_reversal_too(world):
    account = world.account("v1")
    give(account, 10, "g")
    entry = PointsEntry.objects.get(idempotency_key="g")
    ledger.reverse(entry, key="rev-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsEntry.objects.create(account=account, amount=-10, kind=EntryKind.REVERSAL,
                                   reverses=entry, idempotency_key="rev-db", balance_after=0,
                                   signature="x")


@pytest.mark.parametrize("sql", ["UPDATE volunteering_pointsentry SET amount = amount + 1",
                                 "DELETE FROM volunteering_pointsentry"])
def test_update_and_delete_on_the_ledger_raise_in_the_database(world, sql):
    give(world.account("v1"), 10, "g")
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql)
    assert PointsEntry.objects.get().amount == 10


def test_the_database_keeps_balances_at_or_above_zero(world):
    account = world.account("v1")
    with pytest.raises(IntegrityError, match="points_balance_not_negative"), \
            transaction.atomic():
        PointsAccount.objects.filter(pk=account.pk).update(balance=-1)


def test_verify_notices_an_entry_changed_behind_the_ledgers_back(world):
    account = world.account("v1")
    give(account, 10, "g1")
    give(account, 7, "g2")
    assert ledger.verify(account) == []
    with connection.cursor() as cursor:  # the table's owner can switch the trigger off
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("ALTER TABLE volunteering_pointsentry DISABLE TRIGGER USER")
        cursor.execute("UPDATE volunteering_pointsentry SET amount = 70, balance_after = 80"
                       " WHERE idempotency_key = 'g2'")
        cursor.execute("ALTER TABLE volunteering_pointsentry ENABLE TRIGGER USER")
    problems = ledger.verify(account)
    assert any("signature" in p for p in problems)
    assert any("cached balance" in p for p in problems)


@pytest.mark.django_db(transaction=True)
def test_concurrent_overspends_of_one_account_never_go_below_zero():
    w = build_world()
    account = w.account("v1")
    give(account, 30, "g")
    results = race(*[
        (lambda i=i: ledger.post(account.pk, -10, EntryKind.REDEEM, key=f"spend-{i}"))
        for i in range(12)])
    assert sum(isinstance(r, ledger.Posted) for r in results) == 3
    assert sum(isinstance(r, Conflict) for r in results) == 9
    account.refresh_from_db()
    assert account.balance == 0
    assert ledger.verify(account) == []


@pytest.mark.django_db(transaction=True)
def test_one_key_posted_concurrently_writes_one_entry():
    w = build_world()
    account = w.account("v1")
    results = race(*[lambda: ledger.post(account.pk, 3, EntryKind.EARN, key="same")
                     for _ in range(8)])
    assert all(isinstance(r, ledger.Posted) for r in results), results
    assert sum(r.created for r in results) == 1  # type: ignore[union-attr]
    assert PointsEntry.objects.filter(idempotency_key="same").count() == 1
    account.refresh_from_db()
    assert account.balance == 3
