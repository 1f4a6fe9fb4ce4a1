"""Locust users for bench/bench_intake_http.py (run by it, in its own virtualenv; not imported by
the project). One run is one kind of request at one constant offered rate:

    BENCH_MODE   anon | user | locate
    BENCH_RATE   requests per second offered, all users together
    BENCH_USERS  users; each sends at a constant rate of BENCH_RATE / BENCH_USERS, on a fixed
                 timetable: user i's k-th request is due at T0 + (i + k * USERS) / RATE, so the
                 arrivals are evenly spaced (a slow answer delays only that user, which then
                 catches up on its timetable instead of re-synchronising with the others)
    BENCH_POINTS JSON file: [[lon, lat], …] to submit or look up, taken in turn
    BENCH_MARK   description of the submitted appeals (the bench counts them in the database)
    BENCH_COOKIE, BENCH_CSRF   the logged-in user's session cookie and CSRF secret (mode user)
    BENCH_OUT    where every request is written at the end: one JSON line
                 [start (epoch s), latency (ms), status, tracking or ""]

Anonymous requests carry a different client address each (X-Forwarded-For, the bench's
gunicorn trusts 127.0.0.1 as its proxy, as production trusts nginx): many residents, each under
the production rate limit, rather than one address hammering one counter. Every request says
X-Forwarded-Proto: https, as nginx does, so the production settings (SSL redirect, secure
cookies, CSRF's referer check) apply unchanged.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import gevent
from locust import FastHttpUser, events, task

MODE = os.environ["BENCH_MODE"]
RATE = float(os.environ["BENCH_RATE"])
USERS = int(os.environ["BENCH_USERS"])
with open(os.environ["BENCH_POINTS"], encoding="utf-8") as _points:
    POINTS = json.load(_points)
MARK = os.environ.get("BENCH_MARK", "bench")
COOKIE = os.environ.get("BENCH_COOKIE", "")
CSRF = os.environ.get("BENCH_CSRF", "")
OUT = os.environ["BENCH_OUT"]

_next_point = itertools.count()
_next_slot = itertools.count()
# Every user is spawned before T0 (the bench spawns RATE users a second, and never more than RATE).
T0 = time.time() + 1.0
_records: list[tuple[float, float, int, str]] = []


class Client(FastHttpUser):
    # locust's constant_throughput waits "interval minus the last answer's time": users whose
    # answers came late fire at once, together, and the arrivals bunch into bursts that queue
    # (p50 of 55 ms at 50/s offered where one request takes 6 ms). A fixed timetable does not.
    def wait_time(self) -> float:
        self._due += USERS / RATE
        return max(0.0, self._due - time.time())

    def on_start(self) -> None:
        self._due = T0 + next(_next_slot) / RATE
        gevent.sleep(max(0.0, self._due - time.time()))
        host = self.host.split("://", 1)[1]
        self.base = {"X-Forwarded-Proto": "https"}
        if MODE == "user":
            self.base.update({"Cookie": COOKIE, "X-CSRFToken": CSRF,
                              "Referer": f"https://{host}/m/report/"})

    def _point(self) -> tuple[float, float]:
        lon, lat = POINTS[next(_next_point) % len(POINTS)]
        return lon, lat

    def _headers(self) -> dict[str, str]:
        headers = dict(self.base)
        if MODE != "user":
            headers["X-Forwarded-For"] = f"10.{random.randrange(256)}.{random.randrange(256)}." \
                                         f"{random.randrange(1, 255)}"
        return headers

    @task
    def one(self) -> None:
        lon, lat = self._point()
        start = time.time()
        t = time.perf_counter()
        tracking = ""
        if MODE == "locate":
            with self.client.get(f"/api/v1/locate?lon={lon}&lat={lat}", headers=self._headers(),
                                 name="locate", catch_response=True) as response:
                status = response.status_code
                response.success() if status == 200 else response.failure(str(status))
        else:
            body = json.dumps({"category": "C0104", "lon": lon, "lat": lat,
                               "description": MARK, "contact_phone": "13800000000"})
            headers = self._headers()
            headers["Content-Type"] = "application/json"
            with self.client.post("/api/v1/appeals/", data=body, headers=headers,
                                  name=f"appeal-{MODE}", catch_response=True) as response:
                status = response.status_code
                if status == 201:
                    tracking = json.loads(response.text)["tracking"]
                    response.success()
                else:
                    response.failure(f"{status} {(response.text or '')[:200]}")
        _records.append((start, (time.perf_counter() - t) * 1000, status, tracking))


@events.quitting.add_listener
def _write(**_kwargs) -> None:
    with open(OUT, "w", encoding="utf-8") as out:
        for record in _records:
            out.write(json.dumps(record) + "\n")
