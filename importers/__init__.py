"""File -> database pipelines. Each importer is a plain function with a parameters object
(importers/params.py) and a report built on importers/report.py; management commands are thin
wrappers around them (importers/management/base.py)."""
