"""Each session's summary (event count, outcome, node, steps, last time, ticket for matching) and its
holder in its own row, so a step is one write and lists filter in SQL; session_locks is folded in.

Revision ID: 0004
Revises: 0003
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

def columns() -> tuple[sa.Column, ...]:  # type: ignore[type-arg]
    """New Column objects each time: one belongs to one table."""
    return (
        sa.Column("events", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(20), nullable=False, server_default="in_progress"),
        sa.Column("node", sa.String(200), nullable=False, server_default=""),
        sa.Column("steps", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last", sa.String(40), nullable=False, server_default=""),
        sa.Column("ticket_key", sa.String(200), nullable=False, server_default=""),
        sa.Column("held_token", sa.String(64), nullable=True),
        sa.Column("held_agent", sa.String(200), nullable=True),
        sa.Column("held_host", sa.String(200), nullable=True),
        sa.Column("held_pid", sa.Integer, nullable=True),
        sa.Column("held_since", sa.String(40), nullable=True),
        sa.Column("held_renewed_utc", sa.DateTime(), nullable=True),
    )


def upgrade() -> None:
    for column in columns():
        op.add_column("sessions", column)
    op.create_index("ix_sessions_outcome", "sessions", ["outcome"])
    op.create_index("ix_sessions_ticket_key", "sessions", ["ticket_key"])
    _summarise_existing()
    _move_locks()
    op.drop_table("session_locks")


def _summarise_existing() -> None:
    """Fill the summary of sessions recorded before this revision by replaying their events."""
    from kbengine.walk.events import DamagedEvent, parse_event, replay

    connection = op.get_bind()
    sessions, events = sa.table("sessions", sa.column("id"), *(sa.column(c.name) for c in columns()[:6])), \
        sa.table("session_events", sa.column("session_id"), sa.column("seq"), sa.column("data"))
    ids = list(connection.scalars(sa.select(sessions.c.id)))
    for session_id in ids:
        lines = list(connection.scalars(sa.select(events.c.data).where(events.c.session_id == session_id)
                                        .order_by(events.c.seq)))
        values: dict[str, object] = {"events": len(lines)}
        try:
            parsed = [parse_event(json.loads(line)) for line in lines]
            state = replay(parsed).state
            tickets = [str(getattr(e, "ticket", "")) for e in parsed if getattr(e, "ticket", "")]
            values.update(outcome=str(state.get("outcome", "in_progress")), node=str(state.get("node", "")),
                          steps=len(state.get("path", [])), last=parsed[-1].at,
                          ticket_key=(tickets[-1] if tickets else "").casefold())
        except (ValueError, DamagedEvent, IndexError):
            pass  # an unreadable record keeps the defaults; reading it still says what is wrong
        connection.execute(sa.update(sessions).where(sessions.c.id == session_id).values(**values))


def _move_locks() -> None:
    connection = op.get_bind()
    locks = sa.table("session_locks", *(sa.column(name) for name in (
        "session_id", "token", "agent", "host", "pid", "since", "renewed_utc")))
    sessions = sa.table("sessions", sa.column("id"), *(sa.column(c.name) for c in columns()[6:]))
    for row in connection.execute(sa.select(locks)).mappings().all():
        connection.execute(sa.update(sessions).where(sessions.c.id == row["session_id"]).values(
            held_token=row["token"], held_agent=row["agent"], held_host=row["host"], held_pid=row["pid"],
            held_since=row["since"], held_renewed_utc=row["renewed_utc"] or datetime.now(UTC)))


def downgrade() -> None:
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
    op.drop_index("ix_sessions_ticket_key", "sessions")
    op.drop_index("ix_sessions_outcome", "sessions")
    with op.batch_alter_table("sessions") as batch:
        for column in columns():
            batch.drop_column(column.name)
