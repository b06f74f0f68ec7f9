"""Reports over session records: figures for team leads, recurring problems, content health and
the dashboard (docs/report.md). Each stage is one module; this facade names what front ends use."""

from kbengine.report.figures import (
    OUTCOMES,
    PERIODS,
    TREND_FIELDS,
    WalkFigures,
    build_report,
    median,
    p90,
    period_of,
)
from kbengine.report.stream import DamagedRecord, Filters, Reading, in_period, read_walks, walk_figures
from kbengine.report.tables import Table, duration, percent, report_tables, trends_table

__all__ = [
    "OUTCOMES", "PERIODS", "TREND_FIELDS", "DamagedRecord", "Filters", "Reading", "Table", "WalkFigures",
    "build_report", "duration", "in_period", "median", "p90", "percent", "period_of", "read_walks",
    "report_tables", "trends_table", "walk_figures",
]
