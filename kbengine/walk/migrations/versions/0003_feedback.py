"""Feedback from the help site: "Was this helpful?" and searches without results, with nothing
personal (kbengine/report/feedback.py).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("article", sa.String(200), nullable=False, server_default=""),
        sa.Column("tree", sa.String(200), nullable=False, server_default=""),
        sa.Column("node", sa.String(200), nullable=False, server_default=""),
        sa.Column("helpful", sa.Boolean, nullable=True),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("query", sa.String(200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("kb_feedback")
