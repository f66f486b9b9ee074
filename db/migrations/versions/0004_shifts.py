"""shifts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Shifts (start, end, the handover note and the summary saved at the end), who has read each handover, and an index
on the first claim's time for the end-of-shift summary's range queries. Adds only; no data is touched.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=False),
        sa.Column("started_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handover_note", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name=op.f("ck_shifts_ends_after_start")),
        sa.ForeignKeyConstraint(["supervisor_id"], ["users.id"], name=op.f("fk_shifts_supervisor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    op.create_index(op.f("ix_shifts_ended_at"), "shifts", ["ended_at"], unique=False)
    op.create_index(op.f("ix_shifts_supervisor_id"), "shifts", ["supervisor_id"], unique=False)

    op.create_table(
        "shift_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shift_id"], ["shifts.id"], name=op.f("fk_shift_acknowledgements_shift_id_shifts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_shift_acknowledgements_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_acknowledgements")),
        sa.UniqueConstraint("shift_id", "user_id", name=op.f("uq_shift_acknowledgements_shift_user")),
    )
    op.create_index(op.f("ix_shift_acknowledgements_user_id"), "shift_acknowledgements", ["user_id"], unique=False)

    op.create_index("ix_escalations_first_claimed_at", "escalations", ["first_claimed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_escalations_first_claimed_at", table_name="escalations")
    op.drop_index(op.f("ix_shift_acknowledgements_user_id"), table_name="shift_acknowledgements")
    op.drop_table("shift_acknowledgements")
    op.drop_index(op.f("ix_shifts_supervisor_id"), table_name="shifts")
    op.drop_index(op.f("ix_shifts_ended_at"), table_name="shifts")
    op.drop_table("shifts")
