"""One plugin run: collect under a timeout, record the run and health, hand samples on."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from app.core.config import Settings
from app.models.enums import RunStatus
from app.plugins.base import Plugin, PluginConfig, PluginError, Sample, validate_samples
from app.services.metrics.writer import MetricsWriter
from app.services.plugins.recorder import RunRecorder

log = logging.getLogger(__name__)
T = TypeVar("T")

# A single step of a plugin's coroutine that holds the event loop this long blocked everything
# else (other plugins, the API, the writer): the run says so and the instance gets isolated.
LOOP_BLOCK_MS = 500.0
# ... when the loop's thread spent this much CPU in that step (a CPU loop on the loop). A long
# step with little CPU is `time.sleep`, a blocking socket, or a busy machine that descheduled the
# loop (or another thread holding the GIL): only two such runs in a row isolate the instance.
LOOP_BLOCK_CPU_MS = LOOP_BLOCK_MS / 2
# Outputs larger than this are validated in a worker thread, so a huge run does not stall the loop.
VALIDATE_OFF_LOOP = 5000


class _GcClock:
    """Total seconds the interpreter spent in garbage collection, in any thread.

    A full collection over a large heap (a run that built 100,000 samples leaves one) can pause
    every thread for hundreds of milliseconds; whichever plugin step it lands in is not to blame.
    """

    def __init__(self) -> None:
        self.total = 0.0
        self._started: dict[int, float] = {}
        self._by_thread: dict[int, float] = {}  # the same, per thread that collected
        gc.callbacks.append(self._callback)

    def here(self) -> float:
        """Seconds this thread spent collecting."""
        return self._by_thread.get(threading.get_ident(), 0.0)

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        tid = threading.get_ident()
        if phase == "start":
            self._started[tid] = time.perf_counter()
        elif (t0 := self._started.pop(tid, None)) is not None:
            took = time.perf_counter() - t0
            self.total += took
            self._by_thread[tid] = self._by_thread.get(tid, 0.0) + took


_gc_clock = _GcClock()


class StepTimer:
    """Awaits a coroutine step by step and records the longest step (time it held the loop).

    Each `send`/`throw` into the coroutine runs synchronously on the event loop; a step that takes
    long is code that blocks the loop (a CPU loop, `time.sleep`, a blocking socket). Garbage
    collection pauses inside a step are the interpreter's, not the plugin's, and are left out.
    A collection in another thread stalls the loop without costing its thread CPU, so a step is
    never shorter than the loop thread's own CPU in it, less the collections it ran itself: a
    CPU loop is not excused because a big heap was being collected elsewhere meanwhile.
    """

    __slots__ = ("coro", "max_step_cpu_ms", "max_step_ms")

    def __init__(self, coro: Coroutine[Any, Any, T]) -> None:
        self.coro = coro
        self.max_step_ms = 0.0
        self.max_step_cpu_ms = 0.0  # CPU time of the loop's thread in that longest step

    def _note(self, t0: float, gc0: float, own0: float, cpu0: float) -> None:
        wall = time.perf_counter() - t0
        if wall * 1000 <= self.max_step_ms:
            return  # both figures below are at most the wall time: most steps end here
        cpu = time.thread_time() - cpu0
        ms = max(wall - (_gc_clock.total - gc0), cpu - (_gc_clock.here() - own0)) * 1000
        if ms > self.max_step_ms:
            self.max_step_ms = ms
            self.max_step_cpu_ms = cpu * 1000

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        value: Any = None
        error: BaseException | None = None
        while True:
            t0, gc0, own0 = time.perf_counter(), _gc_clock.total, _gc_clock.here()
            cpu0 = time.thread_time()
            try:
                yielded = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                self._note(t0, gc0, own0, cpu0)
                return stop.value
            except BaseException:
                self._note(t0, gc0, own0, cpu0)
                raise
            self._note(t0, gc0, own0, cpu0)
            value, error = None, None
            try:
                value = yield yielded
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation and the like: hand it to the plugin
                error = exc


class IsolatedLoop:
    """An event loop in a thread of its own, for a plugin instance that blocked the main loop.

    Its runs can then block only this thread; the scheduler, the API and the writer keep going.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(
                    asyncio.wait(pending, timeout=1)  # a stuck plugin must not hold shutdown
                )
        finally:
            self.loop.close()

    async def run(self, func: Callable[[], Awaitable[T]]) -> T:
        """Run `func()` on the isolated loop; cancelling the caller cancels it there too."""

        async def call() -> T:
            return await func()

        fut = asyncio.run_coroutine_threadsafe(call(), self.loop)
        return await asyncio.wrap_future(fut)

    def stop(self, join_seconds: float = 1.0) -> None:
        if not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(join_seconds)


def blocked_message(ms: float) -> str:
    return (
        f"collect_data blocked the event loop for {ms:.0f} ms; use ctx.run_blocking for "
        "blocking code. This instance now runs in a thread of its own, so it cannot delay "
        "other plugins."
    )


@dataclass
class RunResult:
    id: int | None
    plugin_id: int
    status: str
    trigger: str
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    error: str | None
    sample_count: int
    lateness_ms: float | None = None
    blocked_ms: float | None = None  # set when collect_data held the event loop too long
    # A long step with little CPU: blocking, or a busy machine; the next run decides.
    suspect: bool = False


async def execute(
    plugin_id: int,
    plugin: Plugin,
    timeout_s: float,
    *,
    settings: Settings,
    writer: MetricsWriter,
    recorder: RunRecorder,
    trigger: str = "schedule",
    lateness_ms: float | None = None,
    isolated: IsolatedLoop | None = None,
    suspect_before: bool = False,
    location: str | None = None,
    samples_out: list[Sample] | None = None,
    routine: bool = False,
) -> RunResult:
    """One run. With `isolated`, collect_data runs on that loop instead of the caller's.

    `suspect_before`: the instance's previous run had a long step with little CPU, so a second
    one in a row counts as blocking. `routine`: the previous run succeeded too, so a success
    is logged at DEBUG (a line a second per 1 s instance said nothing new, and formatting it
    was ~5 % of the process's CPU); the first success and every failure stay at INFO/WARNING.
    """
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    record = recorder.begin(plugin_id, trigger, started, lateness_ms)
    status: str = RunStatus.SUCCESS
    error: str | None = None
    samples: list[Sample] = []
    timer: StepTimer | None = None
    try:
        if isolated is not None:
            raw = await asyncio.wait_for(isolated.run(plugin.collect_data), timeout_s)
        else:
            timer = StepTimer(plugin.collect_data())
            # In this task, not a task of wait_for's own (one fewer per run); the same
            # cancellation reaches the plugin when the time is up.
            async with asyncio.timeout(timeout_s):
                raw = await timer
        samples = await _validate(raw, settings.plugin_max_samples)
    except TimeoutError:
        status, error = (
            RunStatus.TIMEOUT,
            f"The run did not finish within its {timeout_s:g} s timeout.",
        )
    except PluginError as exc:
        status, error = RunStatus.ERROR, str(exc) or type(exc).__name__
        try:
            samples = validate_samples(exc.samples, settings.plugin_max_samples)
        except ValueError:
            samples = []
    except ValueError as exc:
        status, error = RunStatus.ERROR, f"Invalid plugin output: {exc}"
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        status, error = RunStatus.ERROR, f"{type(exc).__name__}: {exc}"[:2000]
    blocked_ms, suspect = None, False
    if timer is not None and timer.max_step_ms >= LOOP_BLOCK_MS:
        if timer.max_step_cpu_ms >= LOOP_BLOCK_CPU_MS or suspect_before:
            blocked_ms = timer.max_step_ms
            # The samples are fine and kept; the run says what is wrong without failing health.
            message = blocked_message(blocked_ms)
            error = f"{error} {message}" if error else message
        else:
            suspect = True
            log.info(
                "a step of the plugin held the event loop for %.0f ms with %.0f ms of CPU: "
                "blocking code or a busy machine; it is isolated if its next run does it again",
                timer.max_step_ms,
                timer.max_step_cpu_ms,
                extra={"plugin_id": plugin_id},
            )
    finished = datetime.now(UTC)
    duration = (time.perf_counter() - t0) * 1000
    if location is not None:
        samples = [
            Sample(s.name, s.value, s.unit, {**s.labels, "location": location}) for s in samples
        ]
    if samples_out is not None:
        samples_out.extend(samples)
    batch = writer.submit(plugin_id, started, samples)
    await recorder.finish(
        record,
        status,
        error,
        len(samples),
        finished,
        duration,
        plugin.failures_until_down,
        health=location is None,
    )
    if trigger == "manual":
        # Whoever pressed "run now" expects the run, its health and its data to be readable
        # when the answer comes.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(batch.written.wait(), record.saved.wait()), 5)
    if status != RunStatus.SUCCESS:
        level = logging.WARNING
    else:
        level = logging.DEBUG if routine and trigger == "schedule" else logging.INFO
    log.log(
        level,
        "plugin run %s",
        status,
        extra={
            "plugin_id": plugin_id,
            "run_id": record.id,
            "duration_ms": round(duration, 1),
            "samples": len(samples),
            **({"error": error} if error else {}),
        },
    )
    if blocked_ms is not None:
        log.warning(
            "plugin blocked the event loop for %.0f ms",
            blocked_ms,
            extra={"plugin_id": plugin_id, "run_id": record.id},
        )
    return RunResult(
        record.id,
        plugin_id,
        status,
        trigger,
        started,
        finished,
        duration,
        error,
        len(samples),
        lateness_ms,
        blocked_ms,
        suspect,
    )


async def _validate(raw: object, limit: int) -> list[Sample]:
    """validate_samples, in a worker thread for big outputs (100,000 samples take a while)."""
    if isinstance(raw, list) and len(raw) > VALIDATE_OFF_LOOP:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, validate_samples, raw, limit)
    return validate_samples(raw, limit)


class BrokenInstance(Plugin):
    """Stands in for an instance that cannot be built, so the failure is recorded as a run."""

    type = "broken"
    name = description = "unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(PluginConfig())
        self.reason = reason

    async def collect_data(self) -> list[Sample]:
        raise PluginError(self.reason)
