"""File -> database pipelines. Each importer is a plain function with a parameters object and a
report; management commands are thin wrappers around them."""
