"""Attendees: the incentive sent for an interview, and when.

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


def downgrade() -> None:
    with op.batch_alter_table("attendees") as batch_op:
        batch_op.drop_column("incentive")
        batch_op.drop_column("incentive_sent_at")
