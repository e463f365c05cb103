"""The load benchmark's protocol-level client (bench/streamlit_client.py) against a real server.

One `streamlit run` started the way bench/bench_serving.py starts it; one session driven through
the websocket only: the first run, a Train click, Play (the fragment's auto-rerun timer is the
client's to honour), Pause. Every check reads what the server sent back, so a client that decoded
the protocol wrongly, or a page that renamed its keys or its "Iteration" readout, fails here.
"""
from __future__ import annotations

import pytest

from bench import bench_serving as bs

as_number = bs.as_number


async def _drive(url: str) -> None:
    async with bs.StreamlitSession(url) as s:
        assert s.metric("Iteration")[0] == "0"
        assert "ws=" in s.query_string and "run=" not in s.query_string  # the page wrote its workspace
        assert s.widget_id("train").endswith("-train") and s.widget_id("play").endswith("-play")
        assert s.bytes_received > 10_000 and s.exceptions == []

        await s.click("train")  # the Iterations box keeps its default, 100
        assert s.metric("Iteration")[0] == "100"
        assert "run=" in s.query_string  # sent back with every later request, as the browser does

        await s.click("play")
        assert list(s.auto_rerun_intervals.values()) == [0.5]
        redraws = s.redraws()
        # Only the client's own timer asks for these runs: nothing else is sent while we wait.
        await s.wait_until(lambda: as_number(s.metric("Iteration")[0]) > 100 and s.redraws() > redraws)
        assert any(f.fragment for f in s.finished)

        await s.click("play")  # the same key reads Pause while playing
        assert s.auto_rerun_intervals == {}
        frozen = s.metric("Iteration")[0]
        sent = s.reruns_sent
        await s.rerun_and_wait()
        assert s.reruns_sent == sent + 1  # no tick went out after the Pause
        assert s.metric("Iteration")[0] == frozen
        assert s.exceptions == []
        with pytest.raises(bs.StreamlitClientError, match="no_such_key"):
            s.widget_id("no_such_key")


def test_client_drives_a_real_session(tmp_path):
    port = bs.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = bs.start_server(port, tmp_path / "runs", tmp_path / "server.log")
    try:
        bs.wait_healthy(proc, url)
        bs.run_to_end(_drive(url))  # in a thread of its own: Playwright may run a loop in this one
    finally:
        bs.stop_server(proc)
    assert proc.poll() is not None
