"""PostgreSQL access: settings, pool, embedded server, migrations and the services that own tables."""
