"""Alembic migrations of the Meldpunt database."""
