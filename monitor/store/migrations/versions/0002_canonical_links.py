"""Canonical links stored at insert, and the index corroboration's windowed reads use.

Existing rows get an empty canonical link; the tracker computes it from the link for those, so no row
has to be rewritten.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("entry", "evidence"):
        op.add_column(table, sa.Column("canonical_link", sa.String(), nullable=False, server_default=""))
    op.create_index(
        "ix_evidence_commitment_signal_published", "evidence", ["commitment_id", "signal", "published"]
    )


def downgrade() -> None:
    op.drop_index("ix_evidence_commitment_signal_published", table_name="evidence")
    for table in ("entry", "evidence"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("canonical_link")
