"""Durable storage: the SQL engine, tables, migrations and the tenant store (no web framework)."""
