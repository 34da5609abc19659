"""banking: accounts, cards, double-entry ledger, transfers, payees, fraud list, appointments,
operations journal, manual requests, core-system switch

Revision ID: b4a0f0000001
Revises: c1a0f0000001 (customers)
Create Date: 2026-11-23 05:10:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b4a0f0000001"
down_revision: str | None = "c1a0f0000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("memo", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transactions")),
    )
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_transactions_created_at"), ["created_at"], unique=False)

    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("account_no", sa.String(length=1024), nullable=False),
        sa.Column("account_no_bidx", sa.String(length=64), nullable=False),
        sa.Column("account_no_mask", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("overdraft_limit", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("balance", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_bank_accounts_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("account_no_bidx", name=op.f("uq_bank_accounts_account_no_bidx")),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_accounts_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "bank_daily_usage",
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("used", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_daily_usage_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", "day", name=op.f("pk_bank_daily_usage")),
    )
    op.create_table(
        "bank_payees",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_no_bidx", sa.String(length=64), nullable=False),
        sa.Column("account_no_mask", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_bank_payees_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_payees")),
        sa.UniqueConstraint("customer_id", "account_no_bidx", name="uq_bank_payees_customer_account"),
    )
    with op.batch_alter_table("bank_payees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_payees_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "bank_appointments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_code", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_type", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_appointments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_bank_appointments_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_appointments")),
    )
    with op.batch_alter_table("bank_appointments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_appointments_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_appointments_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "bank_cards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("card_no", sa.String(length=1024), nullable=False),
        sa.Column("card_no_bidx", sa.String(length=64), nullable=False),
        sa.Column("card_no_mask", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("loss_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("loss_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("formal_loss_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["bank_accounts.id"], name=op.f("fk_bank_cards_account_id_bank_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_cards")),
        sa.UniqueConstraint("card_no_bidx", name=op.f("uq_bank_cards_card_no_bidx")),
    )
    with op.batch_alter_table("bank_cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_cards_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_cards_loss_expires_at"), ["loss_expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_cards_status"), ["status"], unique=False)

    op.create_table(
        "bank_core_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["changed_by"], ["staff.id"], name=op.f("fk_bank_core_state_changed_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_core_state")),
    )
    op.create_table(
        "bank_fraud_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("account_no_bidx", sa.String(length=64), nullable=False),
        sa.Column("account_no_mask", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("added_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by"], ["staff.id"], name=op.f("fk_bank_fraud_accounts_added_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_fraud_accounts")),
        sa.UniqueConstraint("account_no_bidx", name=op.f("uq_bank_fraud_accounts_account_no_bidx")),
    )
    op.create_table(
        "bank_transfers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("from_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("to_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_transfers_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"], ["bank_accounts.id"], name=op.f("fk_bank_transfers_from_account_id_bank_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"], ["bank_accounts.id"], name=op.f("fk_bank_transfers_to_account_id_bank_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_bank_transfers_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transfers")),
        sa.UniqueConstraint("customer_id", "idempotency_key", name="uq_bank_transfers_customer_key"),
    )
    with op.batch_alter_table("bank_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_transfers_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_transfers_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("balance_after", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("counterparty_mask", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["bank_accounts.id"], name=op.f("fk_ledger_postings_account_id_bank_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_ledger_postings_transaction_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_postings_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_postings_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_postings_transaction_id"), ["transaction_id"], unique=False)

    op.create_table(
        "bank_manual_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("details", sa.String(length=1024), nullable=False),
        sa.Column("details_masked", sa.Text(), nullable=False),
        sa.Column("contact_ref", sa.String(length=64), nullable=True),
        sa.Column("verification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_bank_manual_requests_created_by_staff")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_manual_requests_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["processed_by"], ["staff.id"], name=op.f("fk_bank_manual_requests_processed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verification_sessions.id"],
            name=op.f("fk_bank_manual_requests_verification_id_verification_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_manual_requests")),
    )
    with op.batch_alter_table("bank_manual_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_manual_requests_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_manual_requests_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_manual_requests_status"), ["status"], unique=False)

    op.create_table(
        "bank_operations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("verification_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_ref", sa.String(length=64), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_operations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_bank_operations_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verification_sessions.id"],
            name=op.f("fk_bank_operations_verification_id_verification_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_operations")),
    )
    with op.batch_alter_table("bank_operations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_operations_contact_ref"), ["contact_ref"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_operations_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_operations_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_operations_operation"), ["operation"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_operations_staff_id"), ["staff_id"], unique=False)

    # Postings are append-only: a correction is a new, balancing transaction.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION kefu_ledger_postings_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'ledger_postings is append-only: % refused', TG_OP;
            END $$;
        """)
        op.execute("""
            CREATE TRIGGER ledger_postings_no_update_delete BEFORE UPDATE OR DELETE ON ledger_postings
            FOR EACH ROW EXECUTE FUNCTION kefu_ledger_postings_immutable();
        """)
        op.execute("""
            CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
            FOR EACH STATEMENT EXECUTE FUNCTION kefu_ledger_postings_immutable();
        """)
    else:
        op.execute("""
            CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
            BEGIN SELECT RAISE(ABORT, 'ledger_postings is append-only: UPDATE refused'); END;
        """)
        op.execute("""
            CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
            BEGIN SELECT RAISE(ABORT, 'ledger_postings is append-only: DELETE refused'); END;
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_no_truncate ON ledger_postings")
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_no_update_delete ON ledger_postings")
        op.execute("DROP FUNCTION IF EXISTS kefu_ledger_postings_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_no_update")
        op.execute("DROP TRIGGER IF EXISTS ledger_postings_no_delete")
    with op.batch_alter_table("bank_operations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_operations_staff_id"))
        batch_op.drop_index(batch_op.f("ix_bank_operations_operation"))
        batch_op.drop_index(batch_op.f("ix_bank_operations_customer_id"))
        batch_op.drop_index(batch_op.f("ix_bank_operations_created_at"))
        batch_op.drop_index(batch_op.f("ix_bank_operations_contact_ref"))

    op.drop_table("bank_operations")
    with op.batch_alter_table("bank_manual_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_manual_requests_status"))
        batch_op.drop_index(batch_op.f("ix_bank_manual_requests_customer_id"))
        batch_op.drop_index(batch_op.f("ix_bank_manual_requests_created_at"))

    op.drop_table("bank_manual_requests")
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_postings_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_postings_created_at"))
        batch_op.drop_index(batch_op.f("ix_ledger_postings_account_id"))

    op.drop_table("ledger_postings")
    with op.batch_alter_table("bank_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_transfers_customer_id"))
        batch_op.drop_index(batch_op.f("ix_bank_transfers_created_at"))

    op.drop_table("bank_transfers")
    op.drop_table("bank_fraud_accounts")
    op.drop_table("bank_core_state")
    with op.batch_alter_table("bank_cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_cards_status"))
        batch_op.drop_index(batch_op.f("ix_bank_cards_loss_expires_at"))
        batch_op.drop_index(batch_op.f("ix_bank_cards_account_id"))

    op.drop_table("bank_cards")
    with op.batch_alter_table("bank_appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_appointments_starts_at"))
        batch_op.drop_index(batch_op.f("ix_bank_appointments_customer_id"))

    op.drop_table("bank_appointments")
    with op.batch_alter_table("bank_payees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_payees_customer_id"))

    op.drop_table("bank_payees")
    op.drop_table("bank_daily_usage")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_accounts_customer_id"))

    op.drop_table("bank_accounts")
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_transactions_created_at"))

    op.drop_table("ledger_transactions")
