"""Attendees: the incentive sent for an interview, and when; an index to find a Slack user's
interviews (the Home tab, a host's busy times). Interviews: when the team asked the participant
to pick a new time.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attendees") as batch_op:
        batch_op.add_column(sa.Column("incentive_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("incentive", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True))
    op.create_index("ix_attendees_slack_user_id", "attendees", ["slack_user_id"])
    with op.batch_alter_table("interviews") as batch_op:
        batch_op.add_column(sa.Column("reschedule_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("interviews") as batch_op:
        batch_op.drop_column("reschedule_requested_at")
    op.drop_index("ix_attendees_slack_user_id", table_name="attendees")
    with op.batch_alter_table("attendees") as batch_op:
        batch_op.drop_column("incentive")
        batch_op.drop_column("incentive_sent_at")
