"""Alembic environment: runs on the connection db/migrate.py hands over, or on ``-x url=...`` from the CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.engine import Database
from db.models import Base

config = context.config


def run_on(connection: Connection) -> None:
    """Configure the migration context on one connection and run the migrations in a transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        compare_server_default=False,
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="db.types.",
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("pass the database with -x url=DATABASE_URL")
    database = Database(url)
    with database.engine.connect() as conn:
        run_on(conn)
        conn.commit()
    database.dispose()
