"""The record of backfill searches: one row per search, commitment and date window, so an interrupted
backfill resumes and a window that failed or found nothing is never read as "nothing happened".

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_window",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("search", sa.String(), nullable=False),
        sa.Column("commitment_id", sa.String(), nullable=False),
        sa.Column("after", sa.Date(), nullable=False),
        sa.Column("before", sa.Date(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("attempted_at", sa.DateTime(), nullable=True),
        sa.Column("change_ids", sa.String(), nullable=False),
        sa.UniqueConstraint("search", "commitment_id", "after"),
    )
    op.create_index("ix_backfill_window_commitment_id", "backfill_window", ["commitment_id"])


def downgrade() -> None:
    op.drop_index("ix_backfill_window_commitment_id", table_name="backfill_window")
    op.drop_table("backfill_window")
