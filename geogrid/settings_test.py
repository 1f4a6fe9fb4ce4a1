"""Settings for the test suite: production settings, minus what needs HTTPS or slow hashing."""

from geogrid.settings import *  # noqa: F403

# The test client and the live server speak plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Tests create many users; the production hasher is deliberately slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The live server serves static files through the finders (unhashed names), so no manifest.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Machines here (and CI) have no internet: tests use no tile servers at all, and the browser
# tests assert that no request leaves the live server.
GEOGRID = {**GEOGRID, "BASEMAP": "none"}  # noqa: F405
LEAFLET_CONFIG = {**LEAFLET_CONFIG, "TILES": []}  # noqa: F405
