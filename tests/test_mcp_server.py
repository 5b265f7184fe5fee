"""The MCP endpoint (lossapp.ui.mcp_server): `python app.py` with LOSSAPP_MCP=1 serves /compute, /check and
/confusion as MCP tools; an MCP client (the `mcp` package's, over Streamable HTTP and SSE) lists them and calls
them on this machine, offline."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from ui_fixtures import Server, start_server, stop_server

from lossapp.ui import launch_kwargs
from lossapp.ui.mcp_server import ENV, SSE_PATH, STREAMABLE_HTTP_PATH, launch_option, requested

mcp = pytest.importorskip("mcp", reason='the MCP endpoint needs the mcp package: pip install "gradio[mcp]==6.31.0"')
from mcp.client.session import ClientSession  # noqa: E402
from mcp.client.sse import sse_client  # noqa: E402
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

BCE = {"loss": "bce", "pred": "[0.2947, 0.5898, 0.4863]", "target": "[1, 0, 0]"}
TIMEOUT = 300.0  # seconds for one client session: the first call warms torch up on a busy 2-core machine


@pytest.fixture(scope="module")
def mcp_app() -> Iterator[Server]:
    server = start_server({ENV: "1"})
    try:
        yield server
    finally:
        stop_server(server)


def _payload(result: Any) -> dict[str, Any]:
    """The JSON a tool answered: Gradio's MCP server sends the endpoint's dict as one text item (its repr)."""
    assert not result.isError, result.content
    (item,) = result.content
    return ast.literal_eval(item.text)


async def _session(url: str, transport: str, work: Any) -> Any:
    client = streamablehttp_client(url) if transport == "http" else sse_client(url)
    async with client as streams, ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        return await work(session)


def _run(server: Server, transport: str, work: Any) -> Any:
    url = server.url + (STREAMABLE_HTTP_PATH if transport == "http" else SSE_PATH)
    return asyncio.run(asyncio.wait_for(_session(url, transport, work), TIMEOUT))


def test_the_flag_and_the_environment_ask_for_it() -> None:
    assert requested([], {}) is False
    assert requested(["--mcp"], {}) is True
    assert requested([], {ENV: "1"}) is True and requested([], {ENV: "true"}) is True
    assert requested([], {ENV: "0"}) is False and requested([], {ENV: ""}) is False
    with pytest.raises(SystemExit):
        requested(["--no-such-flag"], {})


def test_launch_option_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert launch_kwargs()["mcp_server"] is False
    monkeypatch.setenv(ENV, "1")
    assert launch_kwargs()["mcp_server"] is True
    assert launch_option(False) is False


def test_tools_are_listed_with_their_descriptions(mcp_app: Server) -> None:
    async def work(session: ClientSession) -> Any:
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in _run(mcp_app, "http", work)}
    assert {"compute", "check", "confusion"} <= set(tools)
    compute = tools["compute"]
    assert "PyTorch" in compute.description and "0.926341" in compute.description
    properties = compute.inputSchema["properties"]
    assert list(properties)[:3] == ["loss", "pred", "target"]
    assert "alias" in properties["loss"]["description"] and "[1, 0, 0]" in properties["target"]["description"]
    assert set(compute.inputSchema["required"]) == {"loss", "pred"}
    assert "claimed" in tools["check"].inputSchema["properties"] and "rounding" in tools["check"].description
    assert {"tp", "fp", "fn", "tn", "metric"} <= set(tools["confusion"].inputSchema["properties"])


def test_compute_check_and_confusion_answer_the_articles_cases(mcp_app: Server) -> None:
    async def work(session: ClientSession) -> Any:
        computed = await session.call_tool("compute", BCE)
        checked = await session.call_tool("check", {**BCE, "claimed": "0.9264"})
        counted = await session.call_tool("confusion", {"tp": 20, "fp": 5, "fn": 10, "tn": 65})
        return computed, checked, counted

    computed, checked, counted = (_payload(r) for r in _run(mcp_app, "http", work))
    assert computed["loss"] == "bce" and computed["value"] == pytest.approx(0.92634, abs=5e-6)
    assert computed["reference"]["agrees"] is True
    assert checked["check"]["verdict"] == "rounding"
    assert counted["value"] == pytest.approx(16 / 22, rel=1e-12)  # Dice = 2·20 / (2·20 + 5 + 10)


def test_sse_transport_and_bad_input(mcp_app: Server) -> None:
    async def work(session: ClientSession) -> Any:
        good = await session.call_tool("compute", {**BCE, "reduction": "sum", "dtype": "float64"})
        bad = await session.call_tool("compute", {**BCE, "target": "[1, 0]"})
        return good, bad

    good, bad = _run(mcp_app, "sse", work)
    assert _payload(good)["value"] == pytest.approx(2.779024, abs=5e-6)
    assert bad.isError
    assert "expected pred and target of the same shape" in " ".join(item.text for item in bad.content)
