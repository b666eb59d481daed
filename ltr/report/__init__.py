"""Floor 4: compare systems on per-query values and render the result.

:func:`compare` (per-query frame -> :class:`Report`), :func:`compare_runs` (qrels + runs -> Report),
:func:`compare_experiments` (two finished experiments -> Report). A Report renders as plain text, Markdown,
LaTeX (booktabs) and one self-contained HTML file, and saves all of them with :meth:`Report.save`.
Plots live in :mod:`ltr.report.plots`; table renderers in :mod:`ltr.report.tables`.
"""

from ltr.report.compare import SUMMARY_COLUMNS, Report, compare, compare_experiments, compare_runs

__all__ = ["Report", "compare", "compare_runs", "compare_experiments", "SUMMARY_COLUMNS"]
