"""knowledge base: categories, entries (working and live copy), versions, synonyms, hit counters,
attachments to contacts, unmatched queries, bulletins and read receipts, forwarded questions

Revision ID: d0a0f0000001
Revises: c0a0f0000001 (contacts)
Create Date: 2026-11-23 05:38:26.085927+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0a0f0000001"
down_revision: str | None = "c0a0f0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kb_categories",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["kb_categories.id"], name=op.f("fk_kb_categories_parent_id_kb_categories")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_categories")),
        sa.UniqueConstraint("path", name=op.f("uq_kb_categories_path")),
    )
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_categories_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "kb_unmatched",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("query_norm", sa.String(length=200), nullable=False),
        sa.Column("sample", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_unmatched")),
        sa.UniqueConstraint("query_norm", "day", "source", name=op.f("uq_kb_unmatched_query_norm")),
    )
    with op.batch_alter_table("kb_unmatched", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_unmatched_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_unmatched_query_norm"), ["query_norm"], unique=False)

    op.create_table(
        "kb_bulletins",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("audience_teams", sa.Text(), nullable=False),
        sa.Column("audience_skills", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_kb_bulletins_created_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_bulletins")),
    )
    with op.batch_alter_table("kb_bulletins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_bulletins_valid_from"), ["valid_from"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_bulletins_valid_to"), ["valid_to"], unique=False)

    op.create_table(
        "kb_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("similar", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("products", sa.Text(), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("internal_notes", sa.Text(), nullable=False),
        sa.Column("expert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("expert_note", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("live", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source_question_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["staff.id"], name=op.f("fk_kb_entries_author_id_staff")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["kb_categories.id"], name=op.f("fk_kb_entries_category_id_kb_categories")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_kb_entries_created_by_staff")),
        sa.ForeignKeyConstraint(["expert_id"], ["staff.id"], name=op.f("fk_kb_entries_expert_id_staff")),
        sa.ForeignKeyConstraint(["reviewer_id"], ["staff.id"], name=op.f("fk_kb_entries_reviewer_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entries")),
        sa.UniqueConstraint("key", name=op.f("uq_kb_entries_key")),
    )
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_entries_category_id"), ["category_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_entries_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_entries_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "kb_synonyms",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("canonical", sa.String(length=40), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["staff.id"], name=op.f("fk_kb_synonyms_updated_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_synonyms")),
        sa.UniqueConstraint("canonical", name=op.f("uq_kb_synonyms_canonical")),
    )
    op.create_table(
        "kb_attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_version", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_kb_attachments_contact_id_contacts")),
        sa.ForeignKeyConstraint(["entry_id"], ["kb_entries.id"], name=op.f("fk_kb_attachments_entry_id_kb_entries")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_kb_attachments_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_attachments")),
        sa.UniqueConstraint("contact_id", "entry_id", name=op.f("uq_kb_attachments_contact_id")),
    )
    with op.batch_alter_table("kb_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_attachments_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_attachments_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "kb_bulletin_reads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("bulletin_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bulletin_id"], ["kb_bulletins.id"], name=op.f("fk_kb_bulletin_reads_bulletin_id_kb_bulletins")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_kb_bulletin_reads_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_bulletin_reads")),
        sa.UniqueConstraint("bulletin_id", "staff_id", name=op.f("uq_kb_bulletin_reads_bulletin_id")),
    )
    with op.batch_alter_table("kb_bulletin_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_bulletin_reads_bulletin_id"), ["bulletin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_bulletin_reads_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "kb_entry_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["staff.id"], name=op.f("fk_kb_entry_versions_changed_by_staff")),
        sa.ForeignKeyConstraint(["entry_id"], ["kb_entries.id"], name=op.f("fk_kb_entry_versions_entry_id_kb_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_entry_versions")),
        sa.UniqueConstraint("entry_id", "version", name=op.f("uq_kb_entry_versions_entry_id")),
    )
    with op.batch_alter_table("kb_entry_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_entry_versions_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "kb_hits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("attaches", sa.Integer(), nullable=False),
        sa.Column("bot_answers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["kb_entries.id"], name=op.f("fk_kb_hits_entry_id_kb_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_hits")),
        sa.UniqueConstraint("entry_id", "day", name=op.f("uq_kb_hits_entry_id")),
    )
    with op.batch_alter_table("kb_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_hits_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_hits_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "kb_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("asked_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("category_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("department", sa.String(length=60), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answered_by"], ["staff.id"], name=op.f("fk_kb_questions_answered_by_staff")),
        sa.ForeignKeyConstraint(["asked_by"], ["staff.id"], name=op.f("fk_kb_questions_asked_by_staff")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["kb_categories.id"], name=op.f("fk_kb_questions_category_id_kb_categories")
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_kb_questions_contact_id_contacts")),
        sa.ForeignKeyConstraint(["entry_id"], ["kb_entries.id"], name=op.f("fk_kb_questions_entry_id_kb_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_questions")),
    )
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_questions_asked_by"), ["asked_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_questions_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_questions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_questions_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_questions_status"))
        batch_op.drop_index(batch_op.f("ix_kb_questions_created_at"))
        batch_op.drop_index(batch_op.f("ix_kb_questions_contact_id"))
        batch_op.drop_index(batch_op.f("ix_kb_questions_asked_by"))

    op.drop_table("kb_questions")
    with op.batch_alter_table("kb_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_hits_entry_id"))
        batch_op.drop_index(batch_op.f("ix_kb_hits_day"))

    op.drop_table("kb_hits")
    with op.batch_alter_table("kb_entry_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_entry_versions_entry_id"))

    op.drop_table("kb_entry_versions")
    with op.batch_alter_table("kb_bulletin_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_bulletin_reads_staff_id"))
        batch_op.drop_index(batch_op.f("ix_kb_bulletin_reads_bulletin_id"))

    op.drop_table("kb_bulletin_reads")
    with op.batch_alter_table("kb_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_attachments_entry_id"))
        batch_op.drop_index(batch_op.f("ix_kb_attachments_contact_id"))

    op.drop_table("kb_attachments")
    op.drop_table("kb_synonyms")
    with op.batch_alter_table("kb_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_entries_updated_at"))
        batch_op.drop_index(batch_op.f("ix_kb_entries_status"))
        batch_op.drop_index(batch_op.f("ix_kb_entries_category_id"))

    op.drop_table("kb_entries")
    with op.batch_alter_table("kb_bulletins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_bulletins_valid_to"))
        batch_op.drop_index(batch_op.f("ix_kb_bulletins_valid_from"))

    op.drop_table("kb_bulletins")
    with op.batch_alter_table("kb_unmatched", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_unmatched_query_norm"))
        batch_op.drop_index(batch_op.f("ix_kb_unmatched_day"))

    op.drop_table("kb_unmatched")
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_categories_parent_id"))

    op.drop_table("kb_categories")
