"""complaints: cases, timeline, clock changes, evidence, plan nodes, notices; the business-day
calendar; the e-mail subject in the outbox

Revision ID: e0a0f0000001
Revises: d0a0f0000001 (knowledge)
Create Date: 2026-11-23 07:52:29.785751+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e0a0f0000001"
down_revision: str | None = "d0a0f0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_days")),
        sa.UniqueConstraint("day", name=op.f("uq_calendar_days_day")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=24), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("complainant_name", sa.String(length=1024), nullable=False),
        sa.Column("complainant_phone", sa.String(length=1024), nullable=True),
        sa.Column("complainant_email", sa.String(length=1024), nullable=True),
        sa.Column("complainant_key", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("matter", sa.String(length=24000), nullable=False),
        sa.Column("requested_resolution", sa.String(length=24000), nullable=True),
        sa.Column("business_line", sa.String(length=30), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("regulator_involved", sa.Boolean(), nullable=False),
        sa.Column("media_involved", sa.Boolean(), nullable=False),
        sa.Column("repeat_complainant", sa.Boolean(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("escalation_risk", sa.Boolean(), nullable=False),
        sa.Column("escalation_reasons", sa.Text(), nullable=False),
        sa.Column("escalation_note", sa.String(length=24000), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("handler_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject_staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("responsible_party", sa.String(length=30), nullable=True),
        sa.Column("root_cause", sa.String(length=40), nullable=True),
        sa.Column("root_cause_note", sa.String(length=24000), nullable=True),
        sa.Column("decision", sa.String(length=24000), nullable=True),
        sa.Column("customer_response", sa.String(length=10), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("accept_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_unit", sa.String(length=10), nullable=False),
        sa.Column("clock_start", sa.Date(), nullable=True),
        sa.Column("term_days", sa.Integer(), nullable=False),
        sa.Column("extension_level", sa.Integer(), nullable=False),
        sa.Column("paused_since", sa.Date(), nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_state", sa.String(length=12), nullable=False),
        sa.Column("warned_level", sa.Integer(), nullable=False),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_complaints_contact_id_contacts")),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_complaints_created_by_staff")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_complaints_customer_id_customers")),
        sa.ForeignKeyConstraint(["handler_id"], ["staff.id"], name=op.f("fk_complaints_handler_id_staff")),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["complaints.id"], name=op.f("fk_complaints_merged_into_id_complaints")
        ),
        sa.ForeignKeyConstraint(["subject_staff_id"], ["staff.id"], name=op.f("fk_complaints_subject_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("number", name=op.f("uq_complaints_number")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaints_accept_due_at"), ["accept_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_accepted_at"), ["accepted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_business_line"), ["business_line"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_clock_state"), ["clock_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_complainant_key"), ["complainant_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_created_by"), ["created_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_decided_at"), ["decided_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_escalation_risk"), ["escalation_risk"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_handler_id"), ["handler_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_major"), ["major"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_responsible_party"), ["responsible_party"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_root_cause"), ["root_cause"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaints_subject_staff_id"), ["subject_staff_id"], unique=False)

    op.create_table(
        "complaint_clock_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=24000), nullable=True),
        sa.Column("requested_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_before", sa.Date(), nullable=True),
        sa.Column("due_after", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_clock_changes_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"], name=op.f("fk_complaint_clock_changes_decided_by_staff")),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["staff.id"], name=op.f("fk_complaint_clock_changes_requested_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_clock_changes")),
    )
    with op.batch_alter_table("complaint_clock_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_clock_changes_complaint_id"), ["complaint_id"], unique=False)

    op.create_table(
        "complaint_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.String(length=24000), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["staff.id"], name=op.f("fk_complaint_events_actor_id_staff")),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_events_complaint_id"), ["complaint_id"], unique=False)

    op.create_table(
        "complaint_evidence",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=True),
        sa.Column("filename", sa.String(length=1024), nullable=True),
        sa.Column("content_type", sa.String(length=80), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("storage_key", sa.String(length=120), nullable=True),
        sa.Column("note", sa.String(length=24000), nullable=True),
        sa.Column("added_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["staff.id"], name=op.f("fk_complaint_evidence_added_by_staff")),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_evidence_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_evidence")),
    )
    with op.batch_alter_table("complaint_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_evidence_complaint_id"), ["complaint_id"], unique=False)

    op.create_table(
        "complaint_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_notices_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbound_messages.id"], name=op.f("fk_complaint_notices_message_id_outbound_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_notices")),
    )
    with op.batch_alter_table("complaint_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_notices_complaint_id"), ["complaint_id"], unique=False)

    op.create_table(
        "complaint_plan_nodes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=24000), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=24000), nullable=True),
        sa.Column("notice_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_plan_nodes_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], name=op.f("fk_complaint_plan_nodes_owner_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_plan_nodes")),
        sa.UniqueConstraint("complaint_id", "seq", name=op.f("uq_complaint_plan_nodes_complaint_id")),
    )
    with op.batch_alter_table("complaint_plan_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_plan_nodes_complaint_id"), ["complaint_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_plan_nodes_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_plan_nodes_owner_id"), ["owner_id"], unique=False)

    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=200), nullable=True))
        # e-mail notices are longer than an SMS: room for ~4,000 characters of encrypted text
        batch_op.alter_column("body", existing_type=sa.String(length=1024), type_=sa.String(length=24000))


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.String(length=24000), type_=sa.String(length=1024))
        batch_op.drop_column("subject")

    with op.batch_alter_table("complaint_plan_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_plan_nodes_owner_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_plan_nodes_due_at"))
        batch_op.drop_index(batch_op.f("ix_complaint_plan_nodes_complaint_id"))

    op.drop_table("complaint_plan_nodes")
    with op.batch_alter_table("complaint_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_notices_complaint_id"))

    op.drop_table("complaint_notices")
    with op.batch_alter_table("complaint_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_evidence_complaint_id"))

    op.drop_table("complaint_evidence")
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_events_complaint_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_events_at"))

    op.drop_table("complaint_events")
    with op.batch_alter_table("complaint_clock_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_clock_changes_complaint_id"))

    op.drop_table("complaint_clock_changes")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_subject_staff_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_status"))
        batch_op.drop_index(batch_op.f("ix_complaints_root_cause"))
        batch_op.drop_index(batch_op.f("ix_complaints_responsible_party"))
        batch_op.drop_index(batch_op.f("ix_complaints_received_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_merged_into_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_major"))
        batch_op.drop_index(batch_op.f("ix_complaints_handler_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_escalation_risk"))
        batch_op.drop_index(batch_op.f("ix_complaints_due_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_decided_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_customer_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_created_by"))
        batch_op.drop_index(batch_op.f("ix_complaints_contact_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_complainant_key"))
        batch_op.drop_index(batch_op.f("ix_complaints_closed_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_clock_state"))
        batch_op.drop_index(batch_op.f("ix_complaints_channel"))
        batch_op.drop_index(batch_op.f("ix_complaints_category"))
        batch_op.drop_index(batch_op.f("ix_complaints_business_line"))
        batch_op.drop_index(batch_op.f("ix_complaints_accept_due_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_accepted_at"))

    op.drop_table("complaints")
    op.drop_table("calendar_days")
