"""Google Calendar: hosts' connections (sealed OAuth tokens, push channel, sync state), their busy
blocks, and where each interview's calendar invitation lives.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("active", "needs_reconnect", name="connectionstatus", native_enum=False, length=32), nullable=False),
        sa.Column("calendar_id", sa.String(length=255), nullable=False),
        sa.Column("scopes", sa.String(length=1000), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("access_expires_at", UTCDateTime(), nullable=True),
        sa.Column("problem", sa.String(length=500), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("channel_resource_id", sa.String(length=255), nullable=True),
        sa.Column("channel_token_hash", sa.String(length=64), nullable=True),
        sa.Column("channel_expires_at", UTCDateTime(), nullable=True),
        sa.Column("sync_token", sa.Text(), nullable=True),
        sa.Column("synced_at", UTCDateTime(), nullable=True),
        sa.Column("busy_checked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["team_members.id"], name=op.f("fk_calendar_connections_member_id_team_members"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_connections")),
        sa.UniqueConstraint("member_id", name=op.f("uq_calendar_connections_member_id")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_calendar_connections_channel_id")),
    )
    op.create_index("ix_calendar_connections_status_channel_expires_at", "calendar_connections", ["status", "channel_expires_at"])
    op.create_table(
        "calendar_busy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("transparent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["calendar_connections.id"], name=op.f("fk_calendar_busy_connection_id_calendar_connections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_busy")),
    )
    op.create_index("ix_calendar_busy_connection_start", "calendar_busy", ["connection_id", "starts_at"])
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(sa.Column(
            "calendar_provider", sa.Enum("email", "google", name="calendarprovider", native_enum=False, length=32),
            nullable=False, server_default="email",  # existing interviews: emailed invites
        ))


def downgrade() -> None:
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("calendar_provider")
    op.drop_index("ix_calendar_busy_connection_start", table_name="calendar_busy")
    op.drop_table("calendar_busy")
    op.drop_index("ix_calendar_connections_status_channel_expires_at", table_name="calendar_connections")
    op.drop_table("calendar_connections")
