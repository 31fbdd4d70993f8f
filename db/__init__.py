"""PostgreSQL access: settings, pool, embedded server, migrations and the services that own tables."""

# The one place the release number is written: pyproject.toml reads it (dynamic version), and
# `navigator --version` and the OpenAPI document show it.
__version__ = "0.1.0"
