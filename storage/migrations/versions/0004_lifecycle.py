"""Interviews: when they got their current time (for reminders); participants: the waitlist.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interviews") as batch_op:
        batch_op.add_column(sa.Column("timed_at", sa.DateTime(timezone=True), nullable=True))
    # Existing interviews got their time when they were last written, at the latest.
    op.execute("UPDATE interviews SET timed_at = created_at")
    with op.batch_alter_table("participants") as batch_op:
        batch_op.add_column(sa.Column("wants_openings_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants") as batch_op:
        batch_op.drop_column("wants_openings_at")
    with op.batch_alter_table("interviews") as batch_op:
        batch_op.drop_column("timed_at")
