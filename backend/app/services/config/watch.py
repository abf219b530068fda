"""UNITY_CONFIG: a configuration file applied at start and again whenever it changes.

Every UNITY_CONFIG_POLL_SECONDS the file's modification time and size are looked at; when they
change its text is read, and when the text differs from the last one seen it is applied (never
pruned unless the file says `prune: true`). A file that cannot be applied is logged problem by
problem with line and column, and the database keeps the last state that applied; the same
broken text is not logged again until it changes. A failure that is not the file's (the database
away, a concurrent change) is retried at the next poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.config import environment
from app.core.errors import Conflict, DomainError
from app.core.worker import error_text
from app.models.enums import AuditVia
from app.services.audit import actor as audit_actor
from app.services.config.apply import apply_config
from app.services.config.yamlfile import ConfigFileError

if TYPE_CHECKING:
    from app.state import AppState

log = logging.getLogger(__name__)


class ConfigWatcher:
    def __init__(self, state: AppState, path: Path, every: float) -> None:
        self.state = state
        self.path = path
        self.every = every
        self._stat: tuple[int, int] | None = None  # (mtime_ns, size) last looked at
        self._digest: str | None = None  # of the last text applied or refused for its content
        self.applied = 0  # times a changed file was applied (for tests and logs)
        # section key -> names the last applied file lists: those are edited in the file only
        self.managed: dict[str, frozenset[str]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.check()  # the file's objects exist before the first request
        self._task = asyncio.create_task(self._loop(), name="config-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.check()
            except Exception:  # one bad poll must not end watching
                log.exception("configuration file %s: the check failed", self.path)

    async def check(self) -> None:
        try:
            st = self.path.stat()
            stat = (st.st_mtime_ns, st.st_size)
            if stat == self._stat:
                return
            text = self.path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            if self._stat != (0, -1):  # say it once, not at every poll
                log.error("configuration file %s cannot be read: %s", self.path, exc)
            self._stat = (0, -1)
            return
        self._stat = stat
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest == self._digest:
            return
        await self._apply(text, digest)

    async def _apply(self, text: str, digest: str) -> None:
        s = self.state
        try:
            who = audit_actor.Actor(f"file {self.path.name}", AuditVia.CONFIG)
            with audit_actor.acting(who):
                async with s.db.session() as session:
                    result = await apply_config(
                        session,
                        s.box,
                        s.registry,
                        text,
                        environment(),
                        dry_run=False,
                        user=f"file {self.path.name}",
                        scheduler=s.scheduler,
                        alerts=s.alerts,
                    )
        except ConfigFileError as exc:
            self._digest = digest  # the file's own fault: wait for it to change
            for line in exc.lines():
                log.error("configuration file %s: %s", self.path, line)
            log.error(
                "configuration file %s was not applied; the last configuration that applied "
                "stays in force",
                self.path,
            )
            return
        except Exception as exc:  # the database, a race: retried, never fatal
            self._stat = None  # not the file's fault: try again at the next poll
            log.error(
                "configuration file %s could not be applied (%s); trying again in %g s",
                self.path,
                exc.detail if isinstance(exc, DomainError) else error_text(exc),
                self.every,
            )
            return
        self._digest = digest
        self.applied += 1
        self.managed = result.listed
        for line in result.lines():
            log.info("configuration file %s: %s", self.path, line)


def refuse_if_managed(state: AppState, section: str, name: str, label: str) -> None:
    """Conflict for an edit in the UI or API of an object the UNITY_CONFIG file lists."""
    watch = state.config_watch
    if watch is not None and name in watch.managed.get(section, ()):
        raise Conflict(
            f"The {label} {name!r} is managed by {watch.path.name}; change it in that file "
            "(the server applies it within seconds), or remove it from the file first."
        )
