"""Field encryption, keyed hashes, masks and key rotation (geogrid.pii, layers.people.keys)."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from geogrid import pii
from layers.people import identity, keys
from layers.people.models import Person

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()
HASH = base64.urlsafe_b64encode(b"h" * 32).decode()


MACHINE_KEYS = settings.GEOGRID["PII"]["KEYS"]  # as `make setup` made them, before any override


@pytest.fixture
def ring(settings):
    def use(keys_spec: str, hash_key: str = HASH) -> None:
        settings.GEOGRID = {**settings.GEOGRID, "PII": {"KEYS": keys_spec, "HASH_KEY": hash_key}}
        pii.keyring.cache_clear()

    yield use
    pii.keyring.cache_clear()


def test_round_trip_is_bound_to_its_column_and_detects_tampering(ring):
    ring(f"a:{KEY_A}")
    c = pii.encrypt("350427196005170519", "people_person.id_number")
    assert b"350427" not in c and pii.key_id(c) == "a"
    assert pii.decrypt(c, "people_person.id_number") == "350427196005170519"
    assert pii.encrypt("x", "col") != pii.encrypt("x", "col")  # a fresh nonce each time
    with pytest.raises(pii.DecryptError):
        pii.decrypt(c, "people_person.phone")
    tampered = c[:-1] + bytes([c[-1] ^ 1])
    with pytest.raises(pii.DecryptError):
        pii.decrypt(tampered, "people_person.id_number")


def test_bad_key_settings_are_refused(ring):
    for spec in ("", "a:short", "bad id!:" + KEY_A):
        ring(spec)
        with pytest.raises(ImproperlyConfigured):
            pii.keyring()
    ring(f"a:{KEY_A}", hash_key="c2hvcnQ")
    with pytest.raises(ImproperlyConfigured):
        pii.keyring()


def test_keyed_hash_depends_on_the_key(ring):
    ring(f"a:{KEY_A}")
    first = pii.keyed_hash("350427196005170519")
    assert first == identity.id_hash("350427196005170519 ".lower())
    ring(f"a:{KEY_A}", hash_key=base64.urlsafe_b64encode(b"z" * 32).decode())
    assert pii.keyed_hash("350427196005170519") != first


@pytest.mark.parametrize("value, masked", [
    ("350427196005170519", "350***********0519"),
    ("35042719600517051x", "350***********051X"),
    ("13812345678", "138****5678"),
    ("0598-5831234", "0598***1234"),
])
def test_masks(value, masked):
    fn = pii.mask_phone if len(value) < 15 else pii.mask_id_number
    assert fn(value) == masked


def test_resident_id_checks():
    assert identity.resident_id_problem("350427196005170519") is None
    assert "check digit" in identity.resident_id_problem("350427196005170518")
    assert "date" in identity.resident_id_problem("350427196002300515")
    assert identity.resident_id_problem("35042719600517051") is not None


@pytest.mark.django_db
def test_rotation_reencrypts_everything_and_old_keys_still_read_until_then(town, ring):
    ring(f"a:{KEY_A}")
    person = Person.objects.first()
    # re-seal the town under key a (the fixture used the machine's key)
    sealed = identity.seal_id("350427196005170519")
    Person.objects.filter(pk=person.pk).update(id_cipher=sealed.cipher, id_hash=sealed.hash)
    ring(f"b:{KEY_B},a:{KEY_A}")
    assert identity.open_value(Person.objects.get(pk=person.pk).id_cipher,
                               identity.ID_COLUMN) == "350427196005170519"
    with pytest.raises(pii.DecryptError):  # the machine key's rows: not in this ring
        keys.reencrypt()
    # With every key the data was made with, rotation leaves nothing behind.
    ring(f"b:{KEY_B},a:{KEY_A},{MACHINE_KEYS}")
    assert keys.stale_count() > 0
    call_command("rotate_pii_keys")
    assert keys.stale_count() == 0
    ring(f"b:{KEY_B}")  # the old keys can go
    assert identity.open_value(Person.objects.get(pk=person.pk).id_cipher,
                               identity.ID_COLUMN) == "350427196005170519"


@pytest.mark.django_db
def test_hash_rotation_keeps_exact_search_working(town, ring, monkeypatch):
    person = Person.objects.first()
    number = identity.open_value(person.id_cipher, identity.ID_COLUMN)
    new = base64.urlsafe_b64encode(b"n" * 32).decode()
    monkeypatch.setenv("GEOGRID_PII_HASH_KEY_NEW", new)
    call_command("rotate_pii_keys", "--hash")
    assert not Person.objects.filter(id_hash=identity.id_hash(number)).exists()
    ring(MACHINE_KEYS, hash_key=new)
    assert Person.objects.get(id_hash=identity.id_hash(number)).pk == person.pk
