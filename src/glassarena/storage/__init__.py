"""Persistence: the SQLAlchemy 2 schema, its Alembic migrations, and the repository.

SQLite by default, PostgreSQL (psycopg 3) through the same code; `database.open_database`
connects and migrates to the newest schema.
"""
