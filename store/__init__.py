"""Persistence: SQLAlchemy tables, repositories, migrations and the bundled catalogue."""
