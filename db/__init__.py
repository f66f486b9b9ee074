"""Persistence: SQLAlchemy 2.x models, engine and session factory, Alembic migrations, demo seeding."""
