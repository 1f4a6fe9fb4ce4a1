"""GeoGrid settings. Everything a deployment varies comes from the environment.

Environment: DATABASE_URL, DATABASE_REPLICA_URL (docs/replicas.md), SECRET_KEY, DEBUG,
ALLOWED_HOSTS, GEOGRID_DB_PORT (private cluster),
SECURE_SSL_REDIRECT, CSRF_TRUSTED_ORIGINS. `make setup` writes var/geogrid.env (the private
cluster's DATABASE_URL) and var/secret-key; both are read only when the variable is not set.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from geogrid.env import database_from_url, env_bool, env_list, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GEOGRID_VAR_DIR", BASE_DIR / "var"))
load_env_file(VAR_DIR / "geogrid.env")

DEBUG = env_bool("DEBUG", False)


def _rate(scope: str, default: tuple[int, int]) -> tuple[int, int] | None:
    """A rate limit from GEOGRID_RATE_<SCOPE> ("20/3600": 20 hits an hour; "off"), else default."""
    name = f"GEOGRID_RATE_{scope.upper()}"
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() == "off":
        return None
    try:
        hits, seconds = (int(part) for part in raw.split("/"))
    except ValueError:
        hits = seconds = -1
    if hits < 0 or seconds <= 0:
        raise ImproperlyConfigured(
            f"{name} must be HITS/SECONDS (e.g. 20/3600) or off, not {raw!r}")
    return hits, seconds


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and (VAR_DIR / "secret-key").is_file():
    SECRET_KEY = (VAR_DIR / "secret-key").read_text(encoding="ascii").strip()
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set (run 'make setup' for a local one)")



def _pii_setting(name: str) -> str:
    """GEOGRID_PII_KEYS / GEOGRID_PII_HASH_KEY from the environment, else var/pii-keys (written
    by `make setup` for the demo). Checked when first used (geogrid.pii.keyring)."""
    if os.environ.get(name):
        return os.environ[name]
    path = VAR_DIR / "pii-keys"
    if path.is_file():
        for line in path.read_text(encoding="ascii").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == name:
                return value.strip()
    return ""


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "axes",  # login lock-out (django-axes): AXES_* settings below
    "csp",  # django-csp: the Content-Security-Policy header (see the CSP section below)
    "geogrid",
    "layers",  # migration history only (layers/apps.py)
    "layers.buildings",
    "layers.appeals",
    "layers.analytics",
    "layers.people",
    "layers.care",
    "layers.volunteering",
    "layers.shop",
    "layers.wishes",
    "layers.placards",
    "layers.whistles",
    "layers.deliberation",
    "layers.open311",
    "layers.ogcapi",
    "layers.batch",  # Dask batch jobs: job/partition table (docs/batch.md)
    "importers",
    "maps",
    "fixtures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "geogrid.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "geogrid.dbrouting.ReplicaMiddleware",  # read-your-writes for replica reads (after sessions)
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The `login` rate limit (geogrid.ratelimit), then django-axes' lock-out answer (last).
    "geogrid.ratelimit.LoginRateLimitMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "geogrid.urls"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
WSGI_APPLICATION = "geogrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if "DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set and var/geogrid.env is missing: run 'make setup' to provision "
        "the private PostGIS cluster, or set DATABASE_URL=postgres://user:pass@host:port/db"
    )
DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
# Read replica (docs/replicas.md): a hot standby of the primary. Only replica-eligible reads use
# it (geogrid.dbrouting); it is never migrated, and in tests it mirrors `default` (no test
# database of its own: physical replication copies the primary's; tests/geogrid/test_replica.py
# points it at its standby).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database_from_url(os.environ["DATABASE_REPLICA_URL"])
    DATABASES["replica"]["OPTIONS"] = {"connect_timeout": 2}  # a dead host must not hang reads
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["geogrid.dbrouting.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out account or address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "geogrid" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Map libraries installed from npm by `make setup` (maps/package-lock.json), served by the app.
NODE_MODULES = BASE_DIR / "maps" / "node_modules"
STATICFILES_DIRS = [
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/leaflet-geoman", NODE_MODULES / "@geoman-io" / "leaflet-geoman-free" / "dist"),
    ("vendor/leaflet-heat", NODE_MODULES / "leaflet.heat" / "dist"),
    ("vendor/leaflet-markercluster", NODE_MODULES / "leaflet.markercluster" / "dist"),
    ("vendor/leaflet-vectorgrid", NODE_MODULES / "leaflet.vectorgrid" / "dist"),
]
# Tests and `manage.py runserver` work without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# Safe production defaults; `manage.py check --deploy` is clean with a real SECRET_KEY.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # One error shape for every JSON endpoint (geogrid/errors.py, docs/api-errors.md).
    "EXCEPTION_HANDLER": "geogrid.errors.api_exception_handler",
}

# Map defaults; tiles are configurable per deployment (machines here have no internet, in which
# case the map still draws geometries on a blank background).
LEAFLET_CONFIG: dict[str, Any] = {
    "DEFAULT_CENTER": (26.40, 117.79),
    "DEFAULT_ZOOM": 11,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "TILES": [
        (
            "OpenStreetMap",
            os.environ.get("GEOGRID_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
    "RESET_VIEW": False,
}

# GDAL 3.6 (Debian 12) is older than Django's recommended 3.9; it works for everything used here.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Grid hierarchy conventions (DOMAIN.md). Code lengths per level are a deployment choice.
# One dict of GeoGrid's own settings; its values have different types per key (settings.GEOGRID[...]
# is read as Any).
GEOGRID: dict[str, Any] = {
    "CODE_LENGTHS": {1: 6, 2: 9, 3: 12, 4: 15, 5: 18},
}

# --- Grid boundaries: import, topology tolerances, versions (issue 4) ---
# Tolerances are in metres / square metres, measured on the spheroid (geography).
GEOGRID["TOPOLOGY"] = {
    "OUTSIDE_PARENT_M": 0.5,  # a child may stick out of its parent by less than this width
    "OVERLAP_M2": 1.0,  # siblings may overlap by up to this area (float noise on shared edges)
    "GAP_M2": 1.0,  # parts of a parent left uncovered by its children up to this area
    "SLIVER_WIDTH_M": 1.0,  # a polygon part narrower than this everywhere is a sliver
    "HAIRLINE_M": 0.5,  # gaps/overlaps narrower than this everywhere are shared-edge noise
}
GEOGRID["IMPORT_MAX_BYTES"] = int(os.environ.get("GEOGRID_IMPORT_MAX_BYTES", 512 * 1024 * 1024))
GEOGRID["FIX_INVALID_MAX_AREA_CHANGE"] = 0.01  # --fix-invalid refuses repairs changing area > 1 %

# --- Appeals (layers, issue 5): assignment tolerance, duplicates, uploads, rate limit ---------
# Added keys only; see docs/appeals.md. Sizes in bytes, distances in metres.
GEOGRID["ASSIGN_TOLERANCE_M"] = float(os.environ.get("GEOGRID_ASSIGN_TOLERANCE_M", "30"))
# The in-process index of geogrid.locate (docs/appeals.md): raster cell size, where the index of
# each boundary version is kept between processes ("" = not kept), and how long a single-point
# answer trusts it before checking the grids' signature again (a boundary committed elsewhere).
GEOGRID["ASSIGN_RASTER_CELL_M"] = 10.0
GEOGRID["ASSIGN_INDEX_CACHE_DIR"] = VAR_DIR / "cache" / "assign"
GEOGRID["ASSIGN_INDEX_RECHECK_S"] = 1.0
GEOGRID["DUPLICATE_RADIUS_M"] = 50.0
GEOGRID["DUPLICATE_DAYS"] = 7
GEOGRID["APPEAL_DESCRIPTION_MAX_CHARS"] = 2000
GEOGRID["APPEAL_MAX_PHOTOS"] = 4
GEOGRID["APPEAL_PHOTO_MAX_BYTES"] = 10 * 1024 * 1024
GEOGRID["APPEAL_PHOTO_MAX_PIXELS"] = 40_000_000
GEOGRID["APPEAL_THUMBNAIL_PX"] = 320
# Photos are served by a view that checks who may see them (layers/appeals/photo_views.py),
# never at MEDIA_URL. In production the web server can send the file once the view said yes:
# nginx X-Accel-Redirect to an `internal` location aliasing MEDIA_ROOT, or X-Sendfile.
GEOGRID["MEDIA_ACCEL_REDIRECT"] = os.environ.get("GEOGRID_MEDIA_ACCEL_REDIRECT", "")
GEOGRID["MEDIA_SENDFILE"] = env_bool("GEOGRID_MEDIA_SENDFILE", False)
# Rate limits (geogrid.ratelimit, docs/operations.md): (hits, window seconds) per client address,
# counted in PostgreSQL so that every gunicorn worker shares them; None = no limit. Each can be
# set from the environment as GEOGRID_RATE_<SCOPE>=HITS/SECONDS or =off. The intake's limit
# (anonymous submissions) keeps its original key.
GEOGRID["APPEAL_ANON_RATE"] = _rate("intake", (20, 3600))
# The client's address is REMOTE_ADDR, or, when that is one of these proxies (addresses or
# networks, comma-separated: the nginx in front), the right-most other X-Forwarded-For entry.
GEOGRID["TRUSTED_PROXIES"] = env_list("GEOGRID_TRUSTED_PROXIES", [])
for _proxy in GEOGRID["TRUSTED_PROXIES"]:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"GEOGRID_TRUSTED_PROXIES: {_proxy!r} is not an address or a network") from None
GEOGRID["RATE_LIMITS"] = {
    "support": _rate("support", (20, 3600)),  # anonymous "me too" on an appeal
    "feedback": _rate("feedback", (20, 3600)),  # anonymous ratings (回访) with the token
    "locate": _rate("locate", (600, 3600)),  # anonymous point → grid look-ups (pin moves)
    "login": _rate("login", (60, 600)),  # posts to a login form, any outcome
    "open311": _rate("open311", (600, 3600)),  # Open311 requests without an API key (the feed)
}
# Geocoding: a reading scoring below this (100 exact, 95 homophone, 90 swapped/doubled/dropped
# character, 86 near-homophone; layers/buildings/geocoding.py) leaves the appeal unlocated.
GEOGRID["GEOCODE_MIN_SCORE"] = 85.0
# District code for unlocated appeals far from every district ("" = the nearest district).
GEOGRID["DEFAULT_DISTRICT_CODE"] = os.environ.get("GEOGRID_DEFAULT_DISTRICT_CODE", "")

# Login lock-out (django-axes): after AXES_FAILURE_LIMIT failed logins within the cool-off, the
# account (from any address) and the address (for any account) are refused, even with the right
# password, until AXES_COOLOFF_TIME after the last failure or until an administrator deletes the
# record (admin → Axes → Access attempts). Failures are kept in PostgreSQL (AccessAttempt), so
# every worker sees them. See README.md and docs/operations.md.
AXES_FAILURE_LIMIT = int(os.environ.get("GEOGRID_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("GEOGRID_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account, per address
# Refused attempts during a lock-out do not prolong it: it ends a cool-off after the last counted
# failure, so someone hammering an account cannot keep its owner out indefinitely.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the failures: axes would delete the address's records too, so one valid
# account would let an attacker reset the per-address count between guesses at other accounts.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "geogrid.ratelimit.client_ip"  # the rate limits' address
AXES_LOCKOUT_CALLABLE = "geogrid.ratelimit.login_locked_out"  # login page, 429, Retry-After
AXES_VERBOSE = False  # no banner at every start of manage.py (cron); lock-outs are still logged

# --- Map screens (maps, issue 7): base maps ---------------------------------------------------
# osm (default) | tianditu_vec | tianditu_img (need GEOGRID_TIANDITU_KEY) | gaode (GCJ-02 tiles,
# geometries shifted for display) | none (no tiles; grids and points still drawn).
GEOGRID["BASEMAP"] = os.environ.get("GEOGRID_BASEMAP", "osm")
GEOGRID["OSM_TILE_URL"] = LEAFLET_CONFIG["TILES"][0][1]
GEOGRID["TIANDITU_KEY"] = os.environ.get("GEOGRID_TIANDITU_KEY", "")
GEOGRID["MAP_CENTER"] = (26.40, 117.79)  # lat, lon: 沙县区
GEOGRID["MAP_ZOOM"] = 12

# --- Content-Security-Policy (django-csp; hardening) ------------------------------------------
# No inline script: the screens load static files only (their data comes in json_script blocks,
# which are never executed); django-leaflet's admin widget, the one third-party page with inline
# script, gets a per-request nonce; the API docs use drf-spectacular's split Swagger view (its
# start-up script is a URL). Images: the app, data: URIs (icons in Leaflet's and Swagger's CSS),
# blob: (photos the follow page fetches with the reporter's token) and the tile servers the
# base maps may use (maps/basemaps.py), plus GEOGRID_CSP_IMG_SRC (space-separated) for others.


def _csp_host(url_template: str) -> str | None:
    """A tile URL template → a CSP host source (https://t{s}.tianditu.gov.cn/… →
    https://*.tianditu.gov.cn)."""
    parts = urlsplit(url_template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = ".".join("*" if "{" in label else label for label in parts.netloc.split("."))
    return f"{parts.scheme}://{host}"


_TILE_HOSTS = [
    _csp_host(GEOGRID["OSM_TILE_URL"]),
    *(_csp_host(url) for _label, url, _options in LEAFLET_CONFIG["TILES"]),
    _csp_host(GEOGRID.get("GAODE_TILE_URL", "https://webrd0{s}.is.autonavi.com/")),
    "https://*.tianditu.gov.cn" if GEOGRID["TIANDITU_KEY"] else None,
    *os.environ.get("GEOGRID_CSP_IMG_SRC", "").split(),
]
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        # The Swagger page's one fixed <style> block, by its hash (drf_spectacular/swagger_ui.html).
        "style-src": ["'self'", "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"],
        "img-src": ["'self'", "data:", "blob:", *dict.fromkeys(h for h in _TILE_HOSTS if h)],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Analytics: vector tiles, heat, hotspots, map reports (issue 8) -------------------------
# Added keys only; see docs/analytics.md. Distances in metres, periods in days.
GEOGRID_ANALYTICS: dict[str, Any] = {
    "BIN_SHIFT": 5,  # aggregated tiles carry 2**5 x 2**5 square bins (8 px on a 256 px tile)
    "POINTS_MIN_ZOOM": 16,  # from this zoom on, appeal tiles carry single appeals…
    "POINT_MERGE_PX": 1.0,  # …except that appeals within 1 px (256-px tile) merge, with a count
    "CUBE_MAX_ZOOM": 15,  # pre-aggregated bins for tile zooms 0..15 (one filter dimension)
    "CUBE_COMBO_MAX_ZOOM": 12,  # …and 0..12 for two filter dimensions (category × month/status)
    "DAY_CUBE_MAX_ZOOM": 12,  # day and day × status bins (arbitrary day ranges) for zooms 0..12
    "SUBTREE_CODE_LEN": 9,  # the cube keeps grid codes cut to this length (subdistricts)
    "TILE_EXTENT": 4096,
    "TILE_MAX_AGE": 60,  # Cache-Control max-age of tiles (seconds)
    "TILE_CACHE": "default",  # Django cache holding aggregated tiles by ETag
    "HEAT_SHIFT": 5,  # heat bins per tile side = 2**HEAT_SHIFT
    "HEAT_MAX_TILES": 64,  # a heat bbox needing more tiles is read at a coarser zoom
    "DASHBOARD_TILES_ABOVE": 1_000,  # tiles instead of points above this (the list has 1,000)
    "GRID_LEVEL_BY_ZOOM": {0: 1, 10: 2, 12: 3, 14: 4, 15: 5},  # grid tile level per min zoom
    "HOTSPOT_EPS_M": 50.0,
    "HOTSPOT_MIN_POINTS": 8,
    "HOTSPOT_DAYS": 90,  # default period of `manage.py hotspots`: the last 90 days
    "HOTSPOT_ACTIVE_DAYS": 30,  # a hotspot with a report this recent is active
    "METRIC_SRID": None,  # None: the UTM zone of the data; or e.g. 4548 (CGCS2000 GK 117E)
}

# --- Appeal workflow: working calendar, deadlines, escalation, feedback (issue 6) ------------
# Added keys only; see docs/workflow.md. Holidays come from chinese_calendar plus the
# WorkingDayOverride table (admin); times are local (TIME_ZONE).
GEOGRID["WORKING_PERIODS"] = (("08:30", "12:00"), ("14:00", "17:30"))
GEOGRID["DEADLINE_WARNING_RATIO"] = 0.8  # escalate_overdue warns at 80 % of the time limit
GEOGRID["CALENDAR_WARNING_DAYS"] = 60  # warn when a year this close has no holiday schedule
GEOGRID["FEEDBACK_DAYS"] = 7  # close_unrated closes checked appeals unrated after this many days
GEOGRID["EXTENSION_MAX_HOURS"] = 240  # one extension adds at most this many working hours
GEOGRID["RESOLVE_PHOTO_KINDS"] = ("component", "event")  # these kinds need an after-photo
GEOGRID["NOTIFICATION_BACKEND"] = os.environ.get(
    "GEOGRID_NOTIFICATION_BACKEND", "layers.appeals.notifications.ConsoleBackend"
)
SPECTACULAR_SETTINGS = {
    "TITLE": "GeoGrid API",
    "DESCRIPTION": "Grids, appeals and their workflow, statistics (网格化服务管理).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from the app (drf-spectacular-sidecar): no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's error answers in the one shape (geogrid.openapi; docs/api-errors.md),
    # after drf-spectacular's own hook (enum components).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "geogrid.openapi.error_responses",
    ],
    # One name per GeoJSON constant (`type`), whichever answer it is in.
    "ENUM_NAME_OVERRIDES": {
        "GisFeatureEnum": ["Feature"],
        "GisFeatureCollectionEnum": ["FeatureCollection"],
        "GeoJSONMultiPolygonEnum": ["MultiPolygon"],
        "GeoJSONPointEnum": ["Point"],
    },
    # The schema's warnings about views without serializers are not deployment problems;
    # keep `check --deploy --fail-level WARNING` about the deployment.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
}

# --- People on the grid: households, residents, micro-units, the 四清 ledger (issue 12) --------
# See docs/privacy.md. Keys: geogrid/pii.py; who sees what: geogrid/capabilities.py.
GEOGRID["PII"] = {
    "KEYS": _pii_setting("GEOGRID_PII_KEYS"),  # "kid:base64,…": the first encrypts, all decrypt
    "HASH_KEY": _pii_setting("GEOGRID_PII_HASH_KEY"),  # keyed hash of ID numbers (exact search)
}
GEOGRID["HOUSEHOLD_TAGS"] = ("独居", "空巢", "留守", "高龄", "失能失智", "残疾", "孕产")
GEOGRID["FOCUS_TAGS"] = ("独居", "空巢", "高龄", "失能失智", "残疾", "孕产")  # 重点关注 list
GEOGRID["MICRO_UNIT_HOUSEHOLDS"] = (5, 15)  # warned outside this range
GEOGRID["MICRO_UNIT_STRICT"] = False  # True: refuse instead of warning
GEOGRID["UNMASK_DAILY_LIMIT"] = int(os.environ.get("GEOGRID_UNMASK_DAILY_LIMIT", "20"))
GEOGRID["LEDGER_DAYS"] = {  # the 四清 thresholds, in days
    "occupancy": 180,  # 人户清: dwelling occupancy verified this recently
    "profile": 180,  # 户情清: household profile verified this recently
    "changes": 10,  # 变化清: reported changes verified within this many days
    "issues": 30,  # 问题清: no issue open longer than this without an appeal
    "changes_window": 90,  # 变化清 looks at the changes reported in the last this many days
}
# Care visits for special groups (layers.care, docs/care.md).
GEOGRID["CARE"] = {
    "INTERVAL_DAYS": {"red": 7, "yellow": 30, "blue": 90},  # 重点访 / monthly / 定期访
    "NECESSARY_HOURS": 24,  # 必要访 within this many hours of a trigger
    "WARN_DAYS_BEFORE": 2,  # visitors are warned this many days before a regular visit is due
    "ESCALATE_DAYS_AFTER": 3,  # community staff are told this many days after it was due
    "NECESSARY_ESCALATE_HOURS": 12,  # … and this many hours after a missed 必要访
    "REVIEW_DAYS": 90,  # a colour is reviewed this many days after its assessment
    "FAR_METRES": 200,  # a 上门 visit logged farther than this from the home is flagged
    # Which visit modes reset the plan, per colour (a phone call does not count for red).
    "COUNTING_MODES": {
        "red": ("home",),
        "yellow": ("home", "paired", "third_party"),
        "blue": ("home", "paired", "third_party", "chat", "relative"),
    },
    "MIN_CELL": 5,  # aggregates for counts-only posts suppress cells below this
}
# Participation (docs/participation.md). Each block belongs to its layer app.
GEOGRID["WISHES"] = {  # layers.wishes (docs/wishes.md)
    # A wish's estimated value is at most this; the database CHECK holds 500 (a larger value
    # needs a migration of wishes.Wish's constraint too).
    "MAX_VALUE_YUAN": 500,
    "PUBLISH_DAYS": 30,  # a published wish stays on the wall this long
    "CLAIM_DAYS": 7,  # a claim is due this many days after it was made
    "CLAIM_GRACE_DAYS": 2,  # … and times out this many days after that
    "DIRECT_ACCEPT_DAYS": 2,  # a volunteer accepts a wish directed to them within this
    "MAX_ACTIVE_CLAIMS": 3,  # live claims per claimant
}
GEOGRID["POINTS"] = {  # layers.volunteering and layers.shop
    "VALID_YEARS": None,  # points expire this many years after they were earned (None: never)
    "YUAN_PER_POINT": 1,  # the value used in reports (等值商品)
    "PICKUP_DAYS": 7,  # a reserved redemption expires this many days later
    "SPEND_SCOPE": "community",  # a volunteer redeems at their community's shops, or "district"
    "CARD_MINUTES": 10,  # a volunteer's counter card code is valid this long (and the one before)
}
GEOGRID["WHISTLES"] = {  # layers.whistles (docs/whistles.md): 吹哨报到
    # Report-in limits. An emergency's runs in wall-clock minutes (平谷: within 30 minutes, at
    # night and on holidays too); the others in working minutes of the working calendar.
    "EMERGENCY_REPORT_MINUTES": 30,
    "REPORT_WORKING_DAYS": 1,  # may be a fraction (0.5: half a working day)
    # Completion limits: an emergency in wall-clock hours, the others in working days
    # (complex matters ≤ 10 working days).
    "EMERGENCY_COMPLETE_HOURS": 24,
    "COMPLETE_WORKING_DAYS": 10,
    "WARN_RATIO": 0.5,  # warn the units and the blowing office at half of a limit
    # Whistles per 100 appeals: a subdistrict is flagged when its rate is below the district
    # median divided by this, or above the median times it.
    "RATE_FLAG_FACTOR": 2.0,
}
GEOGRID["DELIBERATION"] = {  # layers.deliberation (docs/deliberation.md): 协商议事
    "ASSESS_WORKING_DAYS": 5,  # a proposal's needs assessment is due this many working days on
    "DECISION_PUBLISH_DAYS": 7,  # a decision stays published to its grid this many days
    "KEY_CLASS": "key",  # Category.deadline_class of the appeals negotiated by a meeting (重点类)
}
GEOGRID["PLACARDS"] = {  # layers.placards (docs/placards.md)
    "PIN_MOVED_METRES": 150,  # a pin moved farther than this is assigned by the pin
    # The address printed in the QR codes: https://host (no trailing slash); "" = the address
    # the sheet was requested on. Printed codes outlive deployments: set it in production.
    "BASE_URL": os.environ.get("GEOGRID_PLACARD_BASE_URL", "").rstrip("/"),
    "REPRINT_NEW_TOKEN": True,  # a reprint gets a new token and revokes the old one
    "BOARD_UNIT_LEADERS_MAX": 6,  # micro-unit leaders named on a building's board
    "BULK_MAX": 20_000,  # placards one bulk request may create
}
GEOGRID["RETENTION_DAYS"] = {
    "moved_out": 3 * 365,  # persons with no residence here for this long are purged
    "access_log": 3 * 365,  # access-log rows older than this are purged
    "care_exited": 3 * 365,  # care subjects exited (or not enrolled) this long ago are purged
}
