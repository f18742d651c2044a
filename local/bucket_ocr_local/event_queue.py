"""The dispatcher's durable queue: accepted MinIO events in sqlite, leased to workers.

This is what Lambda's async invocation queue does for an S3 -> Lambda trigger: an event
is stored before the sender gets its 2xx, handed to one worker at a time under a lease,
retried with backoff when the invocation fails, and dead-lettered after the last attempt.
A lease that runs out (the worker died) makes the event available again, so a crash
redelivers instead of losing it. sqlite gives us transactions across worker processes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    received_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'leased', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    finished_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_ready ON events (status, available_at);
"""


@dataclass(frozen=True)
class LeasedEvent:
    id: int
    body: dict[str, Any]
    attempt: int  # 1 for the first invocation


@dataclass(frozen=True)
class EventRow:
    id: int
    body: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None


class EventQueue:
    def __init__(self, path: Path, *, max_attempts: int = 3, retry_delay: float = 2.0):
        self.path = Path(path)
        # Lambda async: the first try plus two retries, the retries after a growing wait.
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit: each statement is its own transaction unless we BEGIN explicitly.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            # WAL lets the dispatcher append while workers lease, without "database is locked".
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def accept(self, body: dict[str, Any]) -> int:
        """Store durably; only after this returns may the sender be told 2xx."""
        now = time.time()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO events (body, received_at, available_at) VALUES (?, ?, ?)",
                (json.dumps(body), now, now),
            )
            return cursor.lastrowid

    def lease(self, owner: str, lease_seconds: float) -> LeasedEvent | None:
        now = time.time()
        with self._connect() as db:
            # IMMEDIATE takes the write lock up front, so two workers can't claim one row.
            db.execute("BEGIN IMMEDIATE")
            # Closing the connection without COMMIT (on any error) rolls the claim back.
            row = db.execute(
                "SELECT id, body, attempts FROM events"
                " WHERE (status = 'pending' AND available_at <= ?) OR (status = 'leased' AND lease_until < ?)"
                " ORDER BY id LIMIT 1",
                (now, now),
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return None
            event_id, body, attempts = row
            # An expired lease counts as an attempt, as a crashed invocation does in Lambda,
            # so an event that kills its worker every time still ends in the dead letters.
            db.execute(
                "UPDATE events SET status = 'leased', attempts = attempts + 1, lease_owner = ?, lease_until = ?"
                " WHERE id = ?",
                (owner, now + lease_seconds, event_id),
            )
            db.execute("COMMIT")
            return LeasedEvent(id=event_id, body=json.loads(body), attempt=attempts + 1)

    def extend(self, event_id: int, owner: str, lease_seconds: float) -> bool:
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE events SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'leased'",
                (time.time() + lease_seconds, event_id, owner),
            )
            return cursor.rowcount == 1

    def complete(self, event_id: int, owner: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE events SET status = 'done', finished_at = ?, lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (time.time(), event_id, owner),
            )

    def fail(self, event_id: int, owner: str, error: str) -> bool:
        """Record a failed attempt; True when that was the last one and the event is now dead."""
        now = time.time()
        with self._connect() as db:
            row = db.execute("SELECT attempts FROM events WHERE id = ? AND lease_owner = ?", (event_id, owner)).fetchone()
            if row is None:
                return False  # the lease was lost meanwhile; the new holder decides
            attempts = row[0]
            if attempts >= self.max_attempts:
                db.execute(
                    "UPDATE events SET status = 'dead', finished_at = ?, last_error = ?, lease_owner = NULL"
                    " WHERE id = ?",
                    (now, error, event_id),
                )
                return True
            delay = self.retry_delay * (2 ** (attempts - 1))
            db.execute(
                "UPDATE events SET status = 'pending', available_at = ?, last_error = ?, lease_owner = NULL,"
                " lease_until = NULL WHERE id = ?",
                (now + delay, error, event_id),
            )
            return False

    def requeue(self, event_id: int) -> None:
        """Redrive a dead event: a fresh set of attempts."""
        with self._connect() as db:
            db.execute(
                "UPDATE events SET status = 'pending', attempts = 0, available_at = ?, last_error = NULL"
                " WHERE id = ? AND status = 'dead'",
                (time.time(), event_id),
            )

    def get(self, event_id: int) -> EventRow | None:
        rows = self._select("WHERE id = ?", (event_id,))
        return rows[0] if rows else None

    def rows(self, status: str | None = None) -> list[EventRow]:
        return self._select("WHERE status = ?", (status,)) if status else self._select("", ())

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            return dict(db.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall())

    def _select(self, where: str, params: tuple) -> list[EventRow]:
        with self._connect() as db:
            found = db.execute(f"SELECT id, body, status, attempts, last_error FROM events {where} ORDER BY id", params)
            return [EventRow(id, json.loads(body), status, attempts, error) for id, body, status, attempts, error in found]
