# GeoGrid — every target starts from `setup`, which is idempotent and takes seconds once done.
SHELL := /bin/bash
PY := .venv/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
SCALE ?= county

.PHONY: setup system venv assets db replica replica-stop replica-status demo test lint messages screenshots db-stop db-status clean-db

setup: system venv assets db replica messages ## install what is missing, start the private PostGIS

system:
	@bash geogrid/provision/system.sh

venv:
	@bash geogrid/provision/venv.sh

assets: system
	@bash geogrid/provision/assets.sh

db: venv
	@bash geogrid/provision/db.sh up

# GEOGRID_REPLICAS=1: a streaming hot standby of the private cluster on GEOGRID_REPLICA_PORT
# (55433) for the read-only traffic (docs/replicas.md); off by default.
GEOGRID_REPLICAS ?= 0
replica: db
	@if [ "$(GEOGRID_REPLICAS)" = 1 ]; then bash geogrid/provision/replica.sh up; fi

messages: venv assets
	@$(PY) -m geogrid.provision.messages
	@$(MANAGE) collectstatic --noinput -v 0

demo: setup ## migrate, load the sample city, create demo users, serve on 127.0.0.1:8000
	@$(MANAGE) migrate --noinput -v 0
	@$(MANAGE) load_city --scale $(SCALE) --if-empty
	@$(MANAGE) analytics_refresh
	@$(MANAGE) hotspots --days 120
	@$(MANAGE) demo_users
	@$(MANAGE) demo_people
	@$(MANAGE) demo_care
	@$(MANAGE) demo_points
	@$(MANAGE) demo_whistles
	@echo
	@echo "GeoGrid is running:"
	@echo "  home             http://$(HOST):$(PORT)/"
	@echo "  report (phone)   http://$(HOST):$(PORT)/m/"
	@echo "  my micro-unit    http://$(HOST):$(PORT)/m/unit/          (unitleader)"
	@echo "  care visits      http://$(HOST):$(PORT)/m/care/          (worker)"
	@echo "  micro-wishes     http://$(HOST):$(PORT)/m/wishes/        (anyone; a volunteer claims)"
	@echo "  my points        http://$(HOST):$(PORT)/m/points/        (the sample volunteer below)"
	@echo "  shop counter     http://$(HOST):$(PORT)/m/shop/          (the sample operator below)"
	@echo "  whistles (dept)  http://$(HOST):$(PORT)/m/whistles/      (department)"
	@echo "  proposals        http://$(HOST):$(PORT)/m/proposals/     (community)"
	@echo "  dispatch         http://$(HOST):$(PORT)/maps/dispatch/   (dispatcher)"
	@echo "  grid editor      http://$(HOST):$(PORT)/maps/grids/      (manager)"
	@echo "  API docs         http://$(HOST):$(PORT)/api/docs/"
	@echo "  Open311          http://$(HOST):$(PORT)/open311/v2/discovery.json"
	@echo "  OGC API          http://$(HOST):$(PORT)/ogcapi/   (QGIS, GDAL: OAPIF:http://$(HOST):$(PORT)/ogcapi)"
	@echo "  admin            http://$(HOST):$(PORT)/admin/"
	@echo "  health           http://$(HOST):$(PORT)/healthz"
	@echo "Stop with Ctrl-C; 'make db-stop' stops the database."
	@DEBUG=1 $(MANAGE) runserver --noreload $(HOST):$(PORT)

# pytest-xdist workers for `make test` (one per core; each has its own test database,
# test_<name>_gw0, _gw1, …). `--dist load` hands each worker its tests in collection order, so
# the transactional tests (which flush what the data migrations loaded) still run after the
# others; `loadgroup` does the same except that the tests of one xdist_group run on one worker
# (the read-replica tests share one standby: tests/geogrid/test_replica.py).
# TEST_WORKERS=0 runs the suite in one process, as plain pytest does.
TEST_WORKERS ?= auto

test: lint setup ## lint (ruff + mypy) first, then the whole suite on a PostGIS test database
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

screenshots: setup ## refresh docs/screenshots from the browser tests
	@GEOGRID_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/browser/test_screenshots.py

# Both always run; lint fails if either fails. mypy's Django plugin imports the settings (GDAL
# from `system`), which need a SECRET_KEY and a DATABASE_URL but never connect: placeholders
# unless the environment has them, so lint runs before the first `make setup` too.
lint: system venv ## ruff over everything, mypy over geogrid/, layers/ and importers/ ([tool.mypy])
	@status=0; \
	.venv/bin/ruff check . || status=1; \
	SECRET_KEY="$${SECRET_KEY:-typecheck}" \
	DATABASE_URL="$${DATABASE_URL:-postgres://typecheck@localhost/typecheck}" \
	.venv/bin/mypy || status=1; \
	exit $$status

db-stop:
	@bash geogrid/provision/db.sh stop

db-status:
	@bash geogrid/provision/db.sh status

replica-stop:
	@bash geogrid/provision/replica.sh stop

replica-status:
	@bash geogrid/provision/replica.sh status

clean-db:
	@read -r -p "Delete the private database cluster in var/postgres and all its data? [y/N] " a; \
	if [ "$$a" = y ] || [ "$$a" = Y ]; then bash geogrid/provision/db.sh destroy; else echo "kept"; fi
