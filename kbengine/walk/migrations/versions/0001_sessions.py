"""Sessions, their events and the locks of walks in progress.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tree", sa.String(200), nullable=False, index=True),
        sa.Column("ticket", sa.String(200), nullable=False, server_default=""),
        sa.Column("agent", sa.String(200), nullable=False, server_default=""),
        sa.Column("started", sa.String(40), nullable=False),
        sa.Column("last_utc", sa.DateTime(), nullable=False, index=True),
    )
    op.create_table(
        "session_events",
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "session_locks",
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("since", sa.String(40), nullable=False),
        sa.Column("renewed_utc", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("session_locks")
    op.drop_table("session_events")
    op.drop_table("sessions")
