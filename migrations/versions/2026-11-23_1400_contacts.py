"""contacts and routing configuration: contacts, contact events, wrap-up categories, wrap-ups,
follow-ups; routing queues, agent skills, IVR routes, presence log

Revision ID: c0a0f0000001
Revises: b4a0f0000001 (banking)
Create Date: 2026-11-23 06:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0a0f0000001"
down_revision: str | None = "b4a0f0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ivr_routes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("dialled_number", sa.String(length=32), nullable=False),
        sa.Column("ivr_prefix", sa.String(length=32), nullable=False),
        sa.Column("queue_code", sa.String(length=40), nullable=False),
        sa.Column("priority_bonus", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ivr_routes")),
        sa.UniqueConstraint("dialled_number", "ivr_prefix", name=op.f("uq_ivr_routes_dialled_number")),
    )
    op.create_table(
        "routing_queues",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("min_proficiency", sa.Integer(), nullable=False),
        sa.Column("base_priority", sa.Float(), nullable=False),
        sa.Column("acceleration", sa.Float(), nullable=False),
        sa.Column("widen_after_s", sa.Integer(), nullable=True),
        sa.Column("overflow_after_s", sa.Integer(), nullable=True),
        sa.Column("overflow_queue", sa.String(length=40), nullable=True),
        sa.Column("is_department", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_queues")),
        sa.UniqueConstraint("code", name=op.f("uq_routing_queues_code")),
    )
    op.create_table(
        "wrapup_categories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh_hans", sa.String(length=80), nullable=False),
        sa.Column("name_zh_hant", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["wrapup_categories.id"], name=op.f("fk_wrapup_categories_parent_id_wrapup_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrapup_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_wrapup_categories_code")),
    )
    with op.batch_alter_table("wrapup_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wrapup_categories_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "agent_skills",
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("proficiency", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_agent_skills_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("staff_id", "skill", name=op.f("pk_agent_skills")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("caller_number", sa.String(length=1024), nullable=True),
        sa.Column("caller_number_bidx", sa.String(length=64), nullable=True),
        sa.Column("dialled_number", sa.String(length=32), nullable=True),
        sa.Column("ivr_choices", sa.String(length=64), nullable=False),
        sa.Column("queue_code", sa.String(length=40), nullable=False),
        sa.Column("priority_bonus", sa.Float(), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrapup_ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hold_seconds", sa.Float(), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("rings", sa.Integer(), nullable=True),
        sa.Column("within_target", sa.Boolean(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("wrapup_seconds", sa.Float(), nullable=True),
        sa.Column("end_reason", sa.String(length=30), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["staff.id"], name=op.f("fk_contacts_agent_id_staff")),
        sa.ForeignKeyConstraint(["callback_of"], ["contacts.id"], name=op.f("fk_contacts_callback_of_contacts")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers")),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], name=op.f("fk_contacts_owner_id_staff")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_contacts_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("channel", "external_ref", name=op.f("uq_contacts_channel")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_arrived_at"), ["arrived_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_caller_number_bidx"), ["caller_number_bidx"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_queue_code"), ["queue_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_scheduled_for"), ["scheduled_for"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_team_id"), ["team_id"], unique=False)

    op.create_table(
        "presence_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("presence", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_presence_log_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_log")),
    )
    with op.batch_alter_table("presence_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_presence_log_ended_at"), ["ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_presence_log_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_presence_log_started_at"), ["started_at"], unique=False)

    op.create_table(
        "contact_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["staff.id"], name=op.f("fk_contact_events_agent_id_staff")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_events_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_events")),
    )
    with op.batch_alter_table("contact_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_events_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contact_events_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "follow_ups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("details", sa.String(length=12000), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("needs_owner", sa.Boolean(), nullable=False),
        sa.Column("previous_owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("answer_channel", sa.String(length=10), nullable=True),
        sa.Column("answer_note", sa.String(length=12000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["closed_by"], ["staff.id"], name=op.f("fk_follow_ups_closed_by_staff")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_follow_ups_contact_id_contacts")),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_follow_ups_created_by_staff")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_follow_ups_customer_id_customers")),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], name=op.f("fk_follow_ups_owner_id_staff")),
        sa.ForeignKeyConstraint(
            ["previous_owner_id"], ["staff.id"], name=op.f("fk_follow_ups_previous_owner_id_staff")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_follow_ups_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_needs_owner"), ["needs_owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_team_id"), ["team_id"], unique=False)

    op.create_table(
        "wrapups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("summary", sa.String(length=12000), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("kb_entries", sa.Text(), nullable=False),
        sa.Column("wrapup_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["staff.id"], name=op.f("fk_wrapups_agent_id_staff")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["wrapup_categories.id"], name=op.f("fk_wrapups_category_id_wrapup_categories")
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_wrapups_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wrapups")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_wrapups_contact_id")),
    )
    with op.batch_alter_table("wrapups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wrapups_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wrapups_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_wrapups_result"), ["result"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wrapups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrapups_result"))
        batch_op.drop_index(batch_op.f("ix_wrapups_category_id"))
        batch_op.drop_index(batch_op.f("ix_wrapups_agent_id"))

    op.drop_table("wrapups")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_team_id"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_status"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_owner_id"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_needs_owner"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_due_at"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_customer_id"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_contact_id"))

    op.drop_table("follow_ups")
    with op.batch_alter_table("contact_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_events_contact_id"))
        batch_op.drop_index(batch_op.f("ix_contact_events_agent_id"))

    op.drop_table("contact_events")
    with op.batch_alter_table("presence_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presence_log_started_at"))
        batch_op.drop_index(batch_op.f("ix_presence_log_staff_id"))
        batch_op.drop_index(batch_op.f("ix_presence_log_ended_at"))

    op.drop_table("presence_log")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_team_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_status"))
        batch_op.drop_index(batch_op.f("ix_contacts_scheduled_for"))
        batch_op.drop_index(batch_op.f("ix_contacts_queue_code"))
        batch_op.drop_index(batch_op.f("ix_contacts_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_channel"))
        batch_op.drop_index(batch_op.f("ix_contacts_caller_number_bidx"))
        batch_op.drop_index(batch_op.f("ix_contacts_arrived_at"))
        batch_op.drop_index(batch_op.f("ix_contacts_agent_id"))

    op.drop_table("contacts")
    op.drop_table("agent_skills")
    with op.batch_alter_table("wrapup_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wrapup_categories_parent_id"))

    op.drop_table("wrapup_categories")
    op.drop_table("routing_queues")
    op.drop_table("ivr_routes")
