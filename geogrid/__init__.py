"""GeoGrid core: the Django project and the grid hierarchy every other package builds on."""
