"""Usage and costs on /admin: the chart, the table and the CSV export (a mixin of ``AdminState``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import reflex as rx

from ..chat import usage as view
from ..services import usage
from ..services.api import ApiError

__all__ = ["UsageMixin"]


class UsageMixin(rx.State, mixin=True):
    _usage_report: dict[str, Any] = {}
    """The last report from the server (kept on the backend; the page gets points and rows)."""
    usage_points: list[dict[str, Any]] = []
    usage_series: list[view.Series] = []
    usage_rows: list[view.UsageRow] = []
    usage_by: str = "agent"
    usage_metric: str = "costUsd"
    usage_days: str = "14"
    """The period shown: the last 7, 14, 30 or 90 UTC days."""
    usage_error: str = ""

    def _draw_usage(self) -> None:
        self.usage_points, self.usage_series = view.chart(self._usage_report, self.usage_by, self.usage_metric)
        self.usage_rows = view.table_rows(self._usage_report)

    async def _refresh_usage(self, token: str) -> None:
        first = (datetime.now(UTC).date() - timedelta(days=int(self.usage_days) - 1)).isoformat()
        try:
            self._usage_report = await usage.usage_report(token, first)
        except ApiError as exc:
            self.usage_error = str(exc)
            return
        self.usage_error = ""
        self._draw_usage()

    @rx.event
    def set_usage_by(self, by: str | list[str]):
        self.usage_by = "person" if by == "person" else "agent"
        self._draw_usage()

    @rx.event
    async def set_usage_days(self, days: str | list[str]):
        self.usage_days = days if days in ("7", "14", "30", "90") else "14"
        await self._refresh_usage(await self._token())  # type: ignore[attr-defined]

    @rx.event
    def set_usage_metric(self, metric: str | list[str]):
        self.usage_metric = "totalTokens" if metric == "totalTokens" else "costUsd"
        self._draw_usage()

    @rx.event
    async def export_usage(self):
        report = self._usage_report
        try:
            name, text = await usage.usage_csv(await self._token(), report.get("from"), report.get("to"))  # type: ignore[attr-defined]
        except ApiError as exc:
            self.usage_error = str(exc)
            return
        return rx.download(data=text, filename=name, mime_type="text/csv")
