"""A real Open311 client against a live server: PyPI `georeport` 0.3.1 (read-only: services,
a service definition, requests, one request), in JSON and in XML. Its GETs send no key, so
it reads the public feed."""

from __future__ import annotations

import pytest
from georeport import GeoReport

from layers.appeals.categories import load_categories
from layers.open311 import ids
from tests.layers.open311.conftest import A, build_world

pytestmark = pytest.mark.django_db(transaction=True)


def listed(value):
    """xmltodict gives one element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_and_requests(live_server, fmt):
    load_categories()  # a transactional test starts without what the data migration loaded
    world = build_world()
    appeal = world.to_department(world.file(A))
    world.file(A, category="E0102")
    client = GeoReport(live_server.url + "/open311/v2/", output_format=fmt)
    services = listed(client.get_service_list())
    assert {"R0102", "E0102"} <= {s["service_code"] for s in services}
    assert client.get_service_definition("R0102")["service_code"] == "R0102"
    requests = listed(client.get_service_requests(status="open", service_code="R0102,E0102"))
    assert len(requests) == 2 and all(r["status"] == "open" for r in requests)
    feed = ids.feed_id(appeal.public_id)
    one = client.get_service_request(feed)
    if fmt == "xml":
        one = listed(one)[0]
    assert one["service_request_id"] == feed and one["geogrid_status"] == "dispatched"
