"""Indexes for the lifecycle tick: interviews by status and start (reminders, the unconfirmed
warning) and by status and outcome time (the next-day prompt); studies by their last change (the
tick re-reads only the schedules that changed).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_interviews_status_starts_at", "interviews", ["status", "starts_at"])
    op.create_index("ix_interviews_status_outcome_at", "interviews", ["status", "outcome_at"])
    op.create_index("ix_studies_updated_at", "studies", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_studies_updated_at", table_name="studies")
    op.drop_index("ix_interviews_status_outcome_at", table_name="interviews")
    op.drop_index("ix_interviews_status_starts_at", table_name="interviews")
