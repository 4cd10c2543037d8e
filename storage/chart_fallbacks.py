"""Workspaces whose Slack refused chart or data table blocks, remembered in the database so every replica knows."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import ChartFallback


def charts_refused(*, session: Session, team_id: str, now: datetime) -> bool:
    """True while a workspace is remembered as refusing chart blocks."""
    row = session.get(ChartFallback, team_id)
    return row is not None and row.until > now


def remember_refusal(*, session: Session, team_id: str, until: datetime) -> None:
    """Remember (or extend) that a workspace refuses chart blocks until `until`."""
    row = session.get(ChartFallback, team_id)
    if row is None:
        session.add(ChartFallback(team_id=team_id, until=until))
    elif row.until < until:
        row.until = until
        session.add(row)
