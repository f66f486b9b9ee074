"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_changes_at"), ["at"], unique=False)

    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("tier", sa.String(length=16), server_default="standard", nullable=False),
        sa.Column("lifetime_value", db.types.Money(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("churn_risk", sa.Float(), server_default="0", nullable=False),
        sa.Column("contact_consent", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("churned_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("churn_risk >= 0 AND churn_risk <= 1", name=op.f("ck_customers_churn_risk_range")),
        sa.CheckConstraint("lifetime_value >= 0", name=op.f("ck_customers_lifetime_value_nonnegative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_customers_external_ref")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_teams_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failed_login_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('supervisor', 'manager')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "associates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_associates_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_associates")),
        sa.UniqueConstraint("name", name=op.f("uq_associates_name")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_events_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "sla_policies",
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("claim_minutes", sa.Integer(), nullable=False),
        sa.Column("resolve_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("claim_minutes > 0 AND resolve_minutes > 0", name=op.f("ck_sla_policies_targets_positive")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_sla_policies_updated_by_id_users")),
        sa.PrimaryKeyConstraint("severity", name=op.f("pk_sla_policies")),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=32), server_default="console", nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("associate_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("details", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_claimed_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_since", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hold_reason", sa.String(length=200), nullable=True),
        sa.Column("held_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("severity IN ('critical', 'high', 'normal', 'low')", name=op.f("ck_escalations_severity")),
        sa.CheckConstraint(
            "status IN ('open', 'claimed', 'reopened', 'resolved', 'closed')",
            name=op.f("ck_escalations_status"),
        ),
        sa.CheckConstraint("held_seconds >= 0", name=op.f("ck_escalations_held_seconds_nonnegative")),
        sa.ForeignKeyConstraint(
            ["associate_id"], ["associates.id"], name=op.f("fk_escalations_associate_id_associates")
        ),
        sa.ForeignKeyConstraint(["claimed_by_id"], ["users.id"], name=op.f("fk_escalations_claimed_by_id_users")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_escalations_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_escalations_external_ref")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_associate_id"), ["associate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_claimed_by_id"), ["claimed_by_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_escalated_at"), ["escalated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalations_resolved_at"), ["resolved_at"], unique=False)
        batch_op.create_index("ix_escalations_status_escalated_at", ["status", "escalated_at"], unique=False)

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_case_notes_author_id_users")),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalations.id"], name=op.f("fk_case_notes_escalation_id_escalations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_notes_escalation_id"), ["escalation_id"], unique=False)

    op.create_table(
        "hold_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("started_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_hold_periods_ended_by_id_users")),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalations.id"], name=op.f("fk_hold_periods_escalation_id_escalations")
        ),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], name=op.f("fk_hold_periods_started_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_periods")),
    )
    with op.batch_alter_table("hold_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_periods_escalation_id"), ["escalation_id"], unique=False)

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), server_default="inbound", nullable=False),
        sa.Column("occurred_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handled_by", sa.String(length=128), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f("ck_interactions_direction")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_interactions_customer_id_customers")),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalations.id"], name=op.f("fk_interactions_escalation_id_escalations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interactions_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interactions_escalation_id"), ["escalation_id"], unique=False)

    # The default SLA targets (minutes to claim, minutes to resolve); managers change them later.
    sla = sa.table(
        "sla_policies",
        sa.column("severity", sa.String),
        sa.column("claim_minutes", sa.Integer),
        sa.column("resolve_minutes", sa.Integer),
        sa.column("updated_at", db.types.UTCDateTime()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        sla,
        [
            {"severity": "critical", "claim_minutes": 5, "resolve_minutes": 240, "updated_at": now},
            {"severity": "high", "claim_minutes": 15, "resolve_minutes": 1440, "updated_at": now},
            {"severity": "normal", "claim_minutes": 60, "resolve_minutes": 4320, "updated_at": now},
            {"severity": "low", "claim_minutes": 240, "resolve_minutes": 7200, "updated_at": now},
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interactions_escalation_id"))
        batch_op.drop_index(batch_op.f("ix_interactions_customer_id"))

    op.drop_table("interactions")
    with op.batch_alter_table("hold_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_periods_escalation_id"))

    op.drop_table("hold_periods")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_escalation_id"))

    op.drop_table("case_notes")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_status_escalated_at")
        batch_op.drop_index(batch_op.f("ix_escalations_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_escalated_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_customer_id"))
        batch_op.drop_index(batch_op.f("ix_escalations_claimed_by_id"))
        batch_op.drop_index(batch_op.f("ix_escalations_associate_id"))

    op.drop_table("escalations")
    op.drop_table("sla_policies")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_entity")
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    op.drop_table("associates")
    op.drop_table("users")
    op.drop_table("teams")
    op.drop_table("settings")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_name"))

    op.drop_table("customers")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_at"))

    op.drop_table("changes")
