"""A protocol-level Streamlit client: one browser tab without the browser.

It speaks what Streamlit 1.67's frontend speaks on `/_stcore/stream`: BackMsg protobufs up
(`rerun_script` with a ClientState), ForwardMsg protobufs down. Enough of the browser's behaviour is
reproduced for a load test to mean what a visitor's tab means:
- the first run is asked for by the client once the socket is open (as the page does);
- `auto_rerun` messages (from `st.fragment(run_every=...)`) start a timer that asks for a fragment
  rerun every `interval` seconds whether or not the last one has finished (the frontend uses
  setInterval); a full run, a repeated message with another interval, or `stop_auto_rerun` cancel it;
- `page_info_changed` updates the query string, which goes back with every rerun request (the app
  keeps its workspace and run id in the URL, so a client that dropped it would start a new run);
- a button click is a rerun request carrying that button's trigger. Only the clicked widget's state
  is sent; Streamlit keeps every other widget at its last value (SessionState falls back to the
  previous run's values), which is what a tab that changed nothing else would send anyway.

What it records: widget ids by key (a keyed widget's id ends with "-<key>"), the latest value of
every st.metric by label with the time it arrived, each script_finished with its time and whether
it ended a fragment run, exceptions shown on the page, and the bytes of every frame received
(protobuf payload, uncompressed: the socket is opened without permessage-deflate).

    async with StreamlitSession("http://127.0.0.1:8501") as s:
        await s.click("play")
        ...
        s.metric("Iteration")  # ('1,234', monotonic time it arrived) or None
"""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

FULL_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
REDRAW_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class StreamlitClientError(RuntimeError):
    """The server did not answer as a Streamlit page should (timeout, closed socket, no such widget)."""


@dataclass
class Finished:
    at: float          # time.monotonic() when the message arrived
    status: int        # ForwardMsg.ScriptFinishedStatus
    fragment: bool     # True if it ended a fragment run


class StreamlitSession:
    """One session (one tab) on a running `streamlit run` server; use as an async context manager."""

    def __init__(self, base_url: str, query_string: str = "", timeout: float = 60.0):
        self.ws_url = base_url.rstrip("/").replace("http://", "ws://", 1) + "/_stcore/stream"
        self.query_string = query_string.lstrip("?")
        self.timeout = timeout
        self.page_script_hash = ""
        self.widget_ids: dict[str, str] = {}              # widget id -> element type, last seen last
        self.metrics: dict[str, tuple[str, float]] = {}   # label -> (value text, arrival time)
        self.metric_log: dict[str, list[tuple[float, str]]] = {}  # label -> every (time, value) seen
        self.finished: list[Finished] = []
        self.exceptions: list[str] = []
        self.bytes_received = 0
        self.frames_received = 0
        self.reruns_sent = 0
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, task)
        self._changed = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> "StreamlitSession":
        await self.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect and wait for the first full run to finish."""
        self._ws = await connect(self.ws_url, subprotocols=["streamlit"], max_size=None, compression=None,
                                 open_timeout=self.timeout)
        self._reader = asyncio.create_task(self._read_loop())
        await self.rerun_and_wait()

    async def close(self) -> None:
        for _, task in self._timers.values():
            task.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    # ------------------------------------------------------------------ actions
    async def send_rerun(self, widgets=(), fragment_id: str = "", auto: bool = False) -> None:
        """Ask for a run (a fragment's if fragment_id) with these WidgetState protos."""
        state = ClientState(query_string=self.query_string, page_script_hash=self.page_script_hash,
                            fragment_id=fragment_id, is_auto_rerun=auto)
        state.widget_states.widgets.extend(widgets)
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        self.reruns_sent += 1

    async def rerun_and_wait(self, widgets=()) -> Finished:
        """A full rerun (what an interaction outside any fragment sends); wait until it has finished."""
        mark = len(self.finished)
        await self.send_rerun(widgets)
        return await self.wait_full_run(mark)

    async def click(self, key: str) -> Finished:
        """Click the st.button created with `key=key` and wait for the full run it causes."""
        return await self.rerun_and_wait([WidgetState(id=self.widget_id(key), trigger_value=True)])

    async def wait_full_run(self, mark: int) -> Finished:
        """The first full run finished after index `mark` of self.finished."""
        done = await self.wait_until(lambda: next((f for f in self.finished[mark:]
                                                  if not f.fragment and f.status in FULL_DONE), None))
        return done

    async def wait_redraws(self, count: int) -> None:
        mark = self.redraws()
        await self.wait_until(lambda: self.redraws() >= mark + count or None)

    # ------------------------------------------------------------------ reading
    def widget_id(self, key: str) -> str:
        """The id of the widget created with `key=key`, as last drawn (a page may redraw it with a new id)."""
        matches = [wid for wid in self.widget_ids if wid.endswith("-" + key)]
        if not matches:
            raise StreamlitClientError(f"no widget with key {key!r} on the page (keys are the ids' last part)")
        return matches[-1]

    def metric(self, label: str) -> tuple[str, float] | None:
        return self.metrics.get(label)

    def redraws(self, since: float = 0.0, until: float = float("inf")) -> int:
        """Runs (full or fragment) that finished successfully between monotonic times `since` and `until`."""
        return sum(1 for f in self.finished if f.status in REDRAW_DONE and since <= f.at <= until)

    @property
    def auto_rerun_intervals(self) -> dict[str, float]:
        return {fid: interval for fid, (interval, _) in self._timers.items()}

    # ------------------------------------------------------------------ internals
    async def wait_until(self, condition):
        """Return condition()'s first truthy value, checked after every frame; StreamlitClientError
        after `timeout` seconds or if the socket closes."""
        deadline = time.monotonic() + self.timeout
        while True:
            result = condition()
            if result:
                return result
            if self._reader.done():
                raise StreamlitClientError("the server closed the session") from self._reader.exception()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StreamlitClientError(f"no answer from the server within {self.timeout:.0f} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
            except asyncio.TimeoutError:
                pass

    async def _read_loop(self) -> None:
        async for frame in self._ws:
            self.bytes_received += len(frame)
            self.frames_received += 1
            self._handle(ForwardMsg.FromString(frame), time.monotonic())

    def _handle(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            self._handle_delta(msg, now)
        elif kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash
            if not msg.metadata.run.fragment_ids:  # a full run: the browser drops every auto-rerun timer
                self._cancel_timers(list(self._timers))
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            self._cancel_timers(list(msg.stop_auto_rerun.fragment_ids))
        elif kind == "script_finished":
            fragment = bool(msg.metadata.run.fragment_ids) or \
                msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
            self.finished.append(Finished(now, msg.script_finished, fragment))
            self._changed.set()

    def _handle_delta(self, msg: ForwardMsg, now: float) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        etype = element.WhichOneof("type")
        if etype is None:
            return
        body = getattr(element, etype)
        if etype == "metric":
            self.metrics[body.label] = (body.body, now)
            self.metric_log.setdefault(body.label, []).append((now, body.body))
        elif etype == "exception":
            self.exceptions.append(f"{body.type}: {body.message}")
        elif "id" in body.DESCRIPTOR.fields_by_name and body.id:
            self.widget_ids.pop(body.id, None)  # re-inserted: the dict's order is the order last seen
            self.widget_ids[body.id] = etype

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or interval <= 0:
            return
        current = self._timers.get(fragment_id)
        if current and current[0] == interval:
            return  # the frontend keeps a running timer with the same interval
        self._cancel_timers([fragment_id])
        self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))

    def _cancel_timers(self, fragment_ids) -> None:
        for fid in fragment_ids:
            entry = self._timers.pop(fid, None)
            if entry:
                entry[1].cancel()

    async def _tick(self, fragment_id: str, interval: float) -> None:
        # Fixed rate like setInterval: a slow server gets requests it has to coalesce, as from a browser.
        next_at = time.monotonic() + interval
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += interval
            try:
                await self.send_rerun(fragment_id=fragment_id, auto=True)
            except Exception:  # the socket closed under us: stop ticking, the reader reports it
                return


def as_number(text: str) -> float:
    """'1,234' -> 1234.0; the first number in a metric's text."""
    m = re.search(r"[-+]?\d[\d,]*(?:\.\d+)?", text)
    if not m:
        raise ValueError(f"no number in {text!r}")
    return float(m.group(0).replace(",", ""))


def run_to_end(coro):
    """Run a client coroutine to completion in a thread of its own, with its own event loop.

    asyncio.run refuses to start where the calling thread already runs a loop, which a test session
    does after a Playwright (sync API) browser test; a fresh thread never does.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
