"""The evaluation report: one self-contained HTML page that each step adds sections to."""

from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, render_report

__all__ = ["Figure", "ReportSection", "render_report"]
