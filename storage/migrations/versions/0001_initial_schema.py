"""Initial schema: teams, studies, participants, interviews, attendees, activity, outbox.

Revision ID: 0001
Revises: 
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('research_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slack_workspace_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_teams')),
    sa.UniqueConstraint('slack_workspace_id', 'name', name=op.f('uq_research_teams_slack_workspace_id_name'))
    )
    op.create_table('studies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('slack_workspace_id', sa.String(length=32), nullable=False),
    sa.Column('slack_channel_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('active', 'closed', name='studystatus', native_enum=False, length=32), nullable=False),
    sa.Column('session_name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('participant_limit', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('availability', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('participants_can_reschedule', sa.Boolean(), nullable=False),
    sa.Column('participant_change_cutoff_hours', sa.Integer(), nullable=False),
    sa.Column('conferencing', sa.String(length=32), nullable=False),
    sa.Column('calendar_conflict_rule', sa.String(length=32), nullable=False),
    sa.Column('observer_url', sa.String(length=2000), nullable=True),
    sa.Column('notetaker_url', sa.String(length=2000), nullable=True),
    sa.Column('immediate_scheduling', sa.Boolean(), nullable=False),
    sa.Column('screener', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reminder_offsets_minutes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('completion_grace_minutes', sa.Integer(), nullable=False),
    sa.Column('unconfirmed_warning_hours', sa.Integer(), nullable=True),
    sa.Column('incentive_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('incentive_currency', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['research_teams.id'], name=op.f('fk_studies_team_id_research_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studies')),
    sa.UniqueConstraint('slack_workspace_id', 'slack_channel_id', name=op.f('uq_studies_slack_workspace_id_slack_channel_id'))
    )
    with op.batch_alter_table('studies', schema=None) as batch_op:
        batch_op.create_index('ix_studies_team_id', ['team_id'], unique=False)

    op.create_table('team_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('slack_user_id', sa.String(length=32), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('role', sa.Enum('admin', 'member', name='teamrole', native_enum=False, length=32), nullable=False),
    sa.Column('can_host', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['research_teams.id'], name=op.f('fk_team_members_team_id_research_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_members')),
    sa.UniqueConstraint('team_id', 'slack_user_id', name=op.f('uq_team_members_team_id_slack_user_id'))
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index('ix_team_members_slack_user_id', ['slack_user_id'], unique=False)

    op.create_table('interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('upcoming', 'completed', 'no_show', 'canceled', name='interviewstatus', native_enum=False, length=32), nullable=False),
    sa.Column('conferencing_url', sa.String(length=2000), nullable=True),
    sa.Column('conferencing_password', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('participant_limit', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ical_uid', sa.String(length=255), nullable=False),
    sa.Column('ical_sequence', sa.Integer(), nullable=False),
    sa.Column('organizer_member_id', sa.Integer(), nullable=True),
    sa.Column('google_event_id', sa.String(length=1024), nullable=True),
    sa.Column('slack_card_channel_id', sa.String(length=32), nullable=True),
    sa.Column('slack_card_ts', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organizer_member_id'], ['team_members.id'], name=op.f('fk_interviews_organizer_member_id_team_members')),
    sa.ForeignKeyConstraint(['study_id'], ['studies.id'], name=op.f('fk_interviews_study_id_studies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviews')),
    sa.UniqueConstraint('ical_uid', name=op.f('uq_interviews_ical_uid'))
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index('ix_interviews_status_ends_at', ['status', 'ends_at'], unique=False)
        batch_op.create_index('ix_interviews_study_start', ['study_id', 'starts_at', 'id'], unique=False)
        batch_op.create_index('ix_interviews_study_status_start', ['study_id', 'status', 'starts_at', 'id'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('status', sa.Enum('invited', 'scheduled', 'canceled_interview', 'completed', 'no_show', 'not_qualified', name='participantstatus', native_enum=False, length=32), nullable=False),
    sa.Column('screener_answers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('scheduling_token_hash', sa.String(length=64), nullable=True),
    sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['studies.id'], name=op.f('fk_participants_study_id_studies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('scheduling_token_hash', name=op.f('uq_participants_scheduling_token_hash')),
    sa.UniqueConstraint('study_id', 'email', name=op.f('uq_participants_study_id_email'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index('ix_participants_study_id_status', ['study_id', 'status'], unique=False)

    op.create_table('study_hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('conferencing_url', sa.String(length=2000), nullable=True),
    sa.Column('conferencing_password', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['team_members.id'], name=op.f('fk_study_hosts_member_id_team_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['studies.id'], name=op.f('fk_study_hosts_study_id_studies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_hosts')),
    sa.UniqueConstraint('study_id', 'member_id', name=op.f('uq_study_hosts_study_id_member_id'))
    )
    op.create_table('activity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('booked', 'rsvp_changed', 'attendance_confirmed', 'details_updated', 'conferencing_updated', 'host_changed', 'guest_added', 'limit_changed', 'rescheduled', 'canceled', 'no_show', 'completed', 'rated', 'email_sent', 'reminder_sent', 'incentive_sent', 'observer_bot_sent', name='activitykind', native_enum=False, length=32), nullable=False),
    sa.Column('actor_kind', sa.Enum('member', 'participant', 'system', name='actorkind', native_enum=False, length=32), nullable=False),
    sa.Column('actor_slack_user_id', sa.String(length=32), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_activity_events_interview_id_interviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_events'))
    )
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_activity_events_interview_time', ['interview_id', 'occurred_at', 'id'], unique=False)

    op.create_table('attendees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('host', 'guest', 'participant', name='attendeerole', native_enum=False, length=32), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('slack_user_id', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('is_organizer', sa.Boolean(), nullable=False),
    sa.Column('invite_status', sa.Enum('awaiting', 'accepted', 'tentative', 'declined', name='invitestatus', native_enum=False, length=32), nullable=False),
    sa.Column('attendance_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_attendees_interview_id_interviews'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_attendees_participant_id_participants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendees')),
    sa.UniqueConstraint('interview_id', 'email', name=op.f('uq_attendees_interview_id_email')),
    sa.UniqueConstraint('interview_id', 'participant_id', name=op.f('uq_attendees_interview_id_participant_id')),
    sa.UniqueConstraint('interview_id', 'slack_user_id', name=op.f('uq_attendees_interview_id_slack_user_id'))
    )
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.create_index('ix_attendees_participant_id', ['participant_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.Enum('email', 'slack_post', 'slack_update', 'calendar', 'notetaker', name='outboxkind', native_enum=False, length=32), nullable=False),
    sa.Column('ordering_key', sa.String(length=255), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'dropped', name='outboxstatus', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_by', sa.String(length=255), nullable=True),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_outbox_interview_id_interviews'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'available_at'], unique=False)
        batch_op.create_index('ix_outbox_interview_id', ['interview_id'], unique=False)
        batch_op.create_index('ix_outbox_ordering', ['ordering_key', 'status', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_ordering')
        batch_op.drop_index('ix_outbox_interview_id')
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('attendees', schema=None) as batch_op:
        batch_op.drop_index('ix_attendees_participant_id')

    op.drop_table('attendees')
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_events_interview_time')

    op.drop_table('activity_events')
    op.drop_table('study_hosts')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_study_id_status')

    op.drop_table('participants')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_index('ix_interviews_study_status_start')
        batch_op.drop_index('ix_interviews_study_start')
        batch_op.drop_index('ix_interviews_status_ends_at')

    op.drop_table('interviews')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index('ix_team_members_slack_user_id')

    op.drop_table('team_members')
    with op.batch_alter_table('studies', schema=None) as batch_op:
        batch_op.drop_index('ix_studies_team_id')

    op.drop_table('studies')
    op.drop_table('research_teams')
