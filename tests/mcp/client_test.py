#!/usr/bin/env python3
"""`selfos mcp` tested with the official MCP Python SDK (`mcp` from PyPI) as the client.

usage: client_test.py <path to the selfos binary> [--transcript FILE] [--browser]
                      [--inspector NODE LAUNCHER]

Starts a throwaway sync server on SQLite, fills a demo account (`selfos demo`), spawns
`selfos mcp` over stdio with the SDK's stdio_client and checks: the tools, their schemas and
annotations; get_profile and search_profile against the account's own graph (read back with
`selfos export --format jgf`, an independent path); propose_fact stored sealed (the server's
files never hold the statement: a canary) and listed when the vault is opened again
(`selfos export --format json`); and the bad cases: wrong passphrase, unknown tool,
malformed arguments, an oversized statement, the sync server killed mid-session and back.
With --browser (the server then serves the web app, SELFOS_WEBAPP), the user decides in a real
browser (tests/mcp/proposals_browser.mjs, headless Chromium): one proposal accepted with an
edit, which get_profile then tells; one rejected, which propose_fact then refuses to store again.
With --inspector, the MCP Inspector's command-line mode (a second, independent client) reads
the server entry `--print-config claude-desktop` prints, lists the tools and calls them.
Every check prints one `ok`/`FAIL` line; the exit status is the number of failures (capped).
"""

import asyncio
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError as McpError
from mcp.types import Implementation

SELFOS = pathlib.Path(sys.argv[1]).resolve()
TRANSCRIPT = None
BROWSER = "--browser" in sys.argv
INSPECTOR = None
if "--inspector" in sys.argv:
    i = sys.argv.index("--inspector")
    INSPECTOR = (sys.argv[i + 1], sys.argv[i + 2])
ROOT = pathlib.Path(__file__).resolve().parents[2]
if "--transcript" in sys.argv:
    TRANSCRIPT = pathlib.Path(sys.argv[sys.argv.index("--transcript") + 1])
PASSPHRASE = "mcp test passphrase, long enough"
USER = "mcp-demo"

passed, failed = 0, 0
transcript: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    global passed, failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else f": {detail}"), flush=True)
    passed, failed = passed + bool(ok), failed + (not ok)
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SyncServer:
    """`selfos serve` on SQLite in `data`, on a fixed port so a restart is the same server."""

    def __init__(self, data: pathlib.Path):
        self.data, self.port, self.proc = data, free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(os.environ, SELFOS_ADDR=f"127.0.0.1:{self.port}", SELFOS_DATA=str(self.data))
        env.pop("DATABASE_URL", None)
        self.proc = subprocess.Popen([str(SELFOS), "serve"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"selfos serve exited at start ({self.proc.returncode})")
                time.sleep(0.05)
        raise RuntimeError("selfos serve did not listen within 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def selfos(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SELFOS), *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def params(server: SyncServer, pass_file: pathlib.Path) -> StdioServerParameters:
    # The passphrase file through the environment variable, as a client config may do.
    return StdioServerParameters(
        command=str(SELFOS),
        args=["mcp", "--server", server.url, "--user", USER, "--pull-every", "0"],
        env={"SELFOS_PASSPHRASE_FILE": str(pass_file), "PATH": os.environ.get("PATH", "")},
    )


def text_of(result) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def log(call: str, result) -> None:
    transcript.append(f">>> {call}")
    if isinstance(result, Exception):
        transcript.append(f"error: {result}")
    else:
        flag = " (isError)" if getattr(result, "is_error", False) else ""
        transcript.append(text_of(result) + flag)


async def expect_protocol_error(session: ClientSession, name: str, args: dict, label: str, needle: str):
    try:
        result = await session.call_tool(name, args)
    except McpError as e:
        log(f"call_tool({name!r}, {json.dumps(args)[:80]})", e)
        return check(label, needle in str(e.error.message), str(e.error.message))
    return check(label, False, f"no protocol error, got a result: {text_of(result)[:200]}")


def graph(server: SyncServer, pass_file: pathlib.Path, tmp: pathlib.Path) -> dict:
    out = tmp / "graph.jgf.json"
    r = selfos("export", "--server", server.url, "--user", USER, "--passphrase-file", str(pass_file),
               "--format", "jgf", "--out", str(out))
    if r.returncode != 0:
        raise RuntimeError(f"selfos export jgf failed: {r.stderr}")
    return json.loads(out.read_text())["graph"]["nodes"]


async def session_checks(server: SyncServer, pass_file: pathlib.Path, tmp: pathlib.Path) -> None:
    nodes = graph(server, pass_file, tmp)
    canary = f"I keep a canary named {secrets.token_hex(8)} in my desk drawer."
    token = secrets.token_hex(6)
    accept = f"I grow {token} tomatoes on my balcony."
    edited = f"I grow {token} tomatoes and basil on my balcony."
    reject = f"I dislike {token}-style jazz."
    async with stdio_client(params(server, pass_file)) as (read, write):
        async with ClientSession(read, write, client_info=Implementation(name="claude-code", version="1.0")) as session:
            init = await session.initialize()
            check("initialize: the server is selfos and offers tools and resources",
                  init.server_info.name == "selfos" and init.capabilities.tools is not None
                  and init.capabilities.resources is not None)

            tools = {t.name: t for t in (await session.list_tools()).tools}
            check("tools/list: get_profile, search_profile, propose_fact",
                  set(tools) == {"get_profile", "search_profile", "propose_fact"}, str(sorted(tools)))
            gp, sp, pf = tools["get_profile"], tools["search_profile"], tools["propose_fact"]
            check("schemas: get_profile takes optional agent, topic, max_chars",
                  set(gp.input_schema["properties"]) == {"agent", "topic", "max_chars"}
                  and not gp.input_schema.get("required")
                  and gp.input_schema["properties"]["max_chars"]["type"] == "integer")
            check("schemas: search_profile requires query; propose_fact requires statement (max 1000)",
                  sp.input_schema["required"] == ["query"] and pf.input_schema["required"] == ["statement"]
                  and pf.input_schema["properties"]["statement"]["maxLength"] == 1000)
            check("annotations: the two readers are read-only, propose_fact writes but destroys nothing",
                  gp.annotations.read_only_hint is True and sp.annotations.read_only_hint is True
                  and pf.annotations.read_only_hint is False and pf.annotations.destructive_hint is False)
            check("descriptions are written for a model",
                  all(len(t.description or "") > 80 for t in tools.values()))

            # get_profile: the client says it is Claude Code, so the block is Claude's.
            r = await session.call_tool("get_profile", {})
            log("call_tool('get_profile', {})", r)
            s = r.structured_content or {}
            facts = s.get("facts", [])
            text = text_of(r)
            check("get_profile: a block for claude (the client's name mapped to the agent)",
                  not r.is_error and s.get("agent") == "claude" and text.startswith("Context about me"), text[:200])
            check("get_profile: every fact is a node of the account's graph, with its strength",
                  len(facts) > 3 and all(f["node"] in nodes
                                         and abs(nodes[f["node"]]["metadata"]["strength"] - f["strength"]) < 0.01
                                         and f["sentence"] in text for f in facts),
                  f"{len(facts)} facts")
            # vault-core's graph::alignment::KNOWN: the least strength a fact is told at.
            check("get_profile: told facts are known (strength >= 0.3)",
                  all(f["strength"] >= 0.3 for f in facts))
            r = await session.call_tool("get_profile", {"max_chars": 200, "agent": "gemini"})
            check("get_profile: max_chars bounds the block; agent names another agent",
                  len(text_of(r)) <= 200 and (r.structured_content or {}).get("agent") == "gemini", text_of(r))
            dim = nodes[facts[0]["node"]]["metadata"]["dimension"]
            r = await session.call_tool("get_profile", {"topic": dim})
            log(f"call_tool('get_profile', {{'topic': {dim!r}}})", r)
            check(f"get_profile: topic `{dim}` keeps only that dimension's facts",
                  all(nodes[f["node"]]["metadata"]["dimension"] == dim or dim in f["sentence"].lower()
                      or dim in f["node"] for f in r.structured_content["facts"]) and r.structured_content["facts"])

            # search_profile
            r = await session.call_tool("search_profile", {"query": dim.upper()})
            log(f"call_tool('search_profile', {{'query': {dim.upper()!r}}})", r)
            hits = (r.structured_content or {}).get("facts", [])
            check("search_profile: case-insensitive hits, each with dimension, strength and evidence",
                  len(hits) > 0 and all({"dimension", "strength", "evidence"} <= set(h) for h in hits))
            check("search_profile: each hit's strength and evidence count are the graph's",
                  all(h["node"] in nodes
                      and abs(nodes[h["node"]]["metadata"]["strength"] - h["strength"]) < 0.01
                      and h["evidence"] == nodes[h["node"]]["metadata"]["supports"] + nodes[h["node"]]["metadata"]["contradicts"]
                      for h in hits))
            r = await session.call_tool("search_profile", {"query": "zzqqxx-nothing"})
            check("search_profile: no match is a plain answer, not an error",
                  not r.is_error and "No fact" in text_of(r))

            # resources
            templates = (await session.list_resource_templates()).resource_templates
            check("resources: the template selfos://profile/{agent}",
                  [t.uri_template for t in templates] == ["selfos://profile/{agent}"])
            res = await session.read_resource("selfos://profile/claude")
            check("resources: selfos://profile/claude is the same context block",
                  res.contents[0].text.startswith("Context about me"))

            # propose_fact
            r = await session.call_tool("propose_fact", {"statement": canary, "dimension": "life",
                                                         "reason": "The user mentioned it twice."})
            log(f"call_tool('propose_fact', {{'statement': {canary!r}, ...}})", r)
            proposal_id = (r.structured_content or {}).get("id")
            check("propose_fact: stored and synced", not r.is_error and r.structured_content.get("synced") is True,
                  text_of(r))
            # Two more for the user to decide (in the browser, with --browser).
            for st, why in ((accept, "They mentioned the harvest."), (reject, "A guess from one remark.")):
                r = await session.call_tool("propose_fact", {"statement": st, "reason": why})
                check(f"propose_fact: {st[:30]}... stored", not r.is_error and r.structured_content.get("synced") is True,
                      text_of(r))
            r = await session.call_tool("propose_fact", {"statement": "  " + accept.upper()})
            log(f"call_tool('propose_fact', {{'statement': {accept.upper()!r}}})  # again", r)
            s = r.structured_content or {}
            check("propose_fact: the same statement again (case and spaces aside) is not stored twice",
                  not r.is_error and s.get("duplicate") is True and s.get("status") == "pending"
                  and "already waiting" in text_of(r), text_of(r))

            # bad input: protocol-level errors, the session goes on
            await expect_protocol_error(session, "delete_everything", {}, "unknown tool: protocol error", "unknown tool")
            await expect_protocol_error(session, "get_profile", {"max_chars": "lots"},
                                        "malformed arguments: protocol error", "invalid")
            await expect_protocol_error(session, "search_profile", {"querry": "x"},
                                        "an unknown argument: protocol error", "unknown field")
            await expect_protocol_error(session, "propose_fact", {"statement": "x" * 1001},
                                        "a statement over 1000 characters: protocol error", "1001 characters")
            await expect_protocol_error(session, "get_profile", {"agent": "selfos.proposal"},
                                        "a reserved agent name: protocol error", "unknown agent")
            r = await session.call_tool("get_profile", {})
            check("the session still serves after the errors", not r.is_error)

            # The sync server goes away mid-session, then comes back.
            server.stop()
            r = await session.call_tool("get_profile", {})
            log("call_tool('get_profile', {})  # sync server killed", r)
            t = text_of(r)
            check("server down: an error result that says the sync server is unreachable and since when",
                  r.is_error and "unreachable" in t and "profile shown is from" in t and "Context about me" in t, t[:300])
            r = await session.call_tool("search_profile", {"query": dim})
            check("server down: search_profile too, and the process keeps running", r.is_error and "unreachable" in text_of(r))
            server.start()
            r = await session.call_tool("get_profile", {})
            log("call_tool('get_profile', {})  # sync server back", r)
            check("server back: the next call recovers", not r.is_error and "unreachable" not in text_of(r))

            if BROWSER:
                await decide_in_browser(session, server, pass_file, tmp, accept, edited, reject)

    # The accepted answer and the proposals are sealed too: the server holds no statement.
    leaked = [p.name for p in server.data.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    check("canary: the server's database holds neither the proposals nor the accepted answer in plaintext",
          not leaked, str(leaked))

    # The proposal is sealed on the server: no file of the server's data holds the statement.
    # (The SQLite files, the write-ahead log included.)
    marker = canary.split()[-5].encode()
    leaked = [p.name for p in server.data.rglob("*") if p.is_file() and marker in p.read_bytes()]
    check("canary: the server's database never holds the proposal's plaintext", not leaked, str(leaked))

    # Opening the vault again lists the proposal (pending), and the MCP deliveries.
    out = tmp / "export.json"
    r = selfos("export", "--server", server.url, "--user", USER, "--passphrase-file", str(pass_file),
               "--format", "json", "--out", str(out))
    export = json.loads(out.read_text()) if r.returncode == 0 else {}
    mine = [p for p in export.get("proposals", []) if p["id"] == proposal_id]
    check("the proposal is listed when the vault is opened again, pending, from claude",
          len(mine) == 1 and mine[0]["statement"] == canary and mine[0]["status"] == "pending"
          and mine[0]["agent"] == "claude" and mine[0]["dimension"] == "life", str(mine or r.stderr))
    mcp_deliveries = [d for d in export.get("deliveries", []) if d["method"] == "mcp"]
    check("every call that returned profile content left a delivery record (method mcp)",
          len(mcp_deliveries) >= 8 and {d["agent"] for d in mcp_deliveries} >= {"claude", "gemini"},
          str(len(mcp_deliveries)))


async def decide_in_browser(session: ClientSession, server: SyncServer, pass_file: pathlib.Path,
                            tmp: pathlib.Path, accept: str, edited: str, reject: str) -> None:
    """The user accepts one proposal (with an edit) and rejects another in the web app."""
    plan = tmp / "plan.json"
    plan.write_text(json.dumps({"agent_name": "Claude",
                                "accept": {"statement": accept, "reason": "They mentioned the harvest.",
                                           "edited": edited},
                                "reject": {"statement": reject}}))
    r = await asyncio.to_thread(
        subprocess.run, ["node", str(ROOT / "tests/mcp/proposals_browser.mjs"), server.url, USER,
                         str(pass_file), str(plan)],
        capture_output=True, text=True, timeout=240)
    global passed, failed
    for line in r.stdout.splitlines():
        if line.startswith(("ok ", "FAIL")):
            print(line, flush=True)
            passed, failed = passed + line.startswith("ok "), failed + line.startswith("FAIL")
    check("browser: the Proposals steps finished", r.returncode == 0, r.stderr[-2000:])

    # get_profile pulls (--pull-every 0): the user's words are in the profile, the agent's not.
    deadline, text = time.monotonic() + 30, ""
    while time.monotonic() < deadline:
        r = await session.call_tool("get_profile", {"max_chars": 100000})
        text = text_of(r)
        if edited in text:
            break
        await asyncio.sleep(0.5)
    log("call_tool('get_profile', {'max_chars': 100000})  # after the user accepted an edited proposal", r)
    check("get_profile: the accepted statement, in the user's words, is part of the profile",
          edited in text and accept not in text, text[-400:])
    r = await session.call_tool("search_profile", {"query": "basil"})
    hits = (r.structured_content or {}).get("facts", [])
    check("search_profile: the accepted statement is a fact of the graph",
          any(h.get("sentence") == edited for h in hits), str(hits)[:300])
    r = await session.call_tool("propose_fact", {"statement": reject})
    log(f"call_tool('propose_fact', {{'statement': {reject!r}}})  # after the user rejected it", r)
    s = r.structured_content or {}
    check("propose_fact: a statement the user rejected is answered 'already rejected' and not stored",
          not r.is_error and s.get("duplicate") is True and s.get("status") == "rejected"
          and "already rejected by the user" in text_of(r), text_of(r))


def wrong_passphrase(server: SyncServer, tmp: pathlib.Path) -> None:
    bad = tmp / "wrong-pass"
    bad.write_text("not the passphrase at all\n")
    start = time.monotonic()
    r = subprocess.run([str(SELFOS), "mcp", "--server", server.url, "--user", USER, "--passphrase-file", str(bad)],
                       input="", capture_output=True, text=True, timeout=60)
    transcript.append(f"$ selfos mcp --server {server.url} --user {USER} --passphrase-file wrong-pass\n"
                      f"{r.stderr.strip()}\n(exit {r.returncode})")
    check("wrong passphrase: non-zero exit, a clear message on stderr, nothing on stdout",
          r.returncode != 0 and "wrong username or passphrase" in r.stderr and r.stdout == "",
          f"exit {r.returncode}, stderr {r.stderr!r}, stdout {r.stdout!r}")
    r = subprocess.run([str(SELFOS), "mcp", "--server", server.url, "--user", USER], input="",
                       capture_output=True, text=True, timeout=60, env={"PATH": os.environ.get("PATH", "")})
    check("no passphrase file: usage error (exit 2), nothing on stdout",
          r.returncode == 2 and "passphrase-file" in r.stderr and r.stdout == "", r.stderr)
    check("wrong passphrase: answered within 30 s", time.monotonic() - start < 30)


def print_config(server: SyncServer, pass_file: pathlib.Path) -> None:
    base = ["mcp", "--server", server.url, "--user", USER, "--passphrase-file", str(pass_file), "--print-config"]
    for client in ("claude-desktop", "cursor"):
        r = selfos(*base, client)
        try:
            cfg = json.loads(r.stdout)["mcpServers"]["selfos"]
            ok = cfg["command"] == str(SELFOS) and cfg["args"][:3] == ["mcp", "--server", server.url]
        except (ValueError, KeyError):
            ok = False
        check(f"--print-config {client}: mcpServers JSON that starts this binary", ok, r.stdout + r.stderr)
    r = selfos(*base, "claude-code")
    check("--print-config claude-code: the `claude mcp add` command",
          r.stdout.startswith(f"claude mcp add selfos -- {SELFOS} mcp --server {server.url}"), r.stdout)


def inspector_checks(server: SyncServer, pass_file: pathlib.Path, tmp: pathlib.Path) -> None:
    """The MCP Inspector's CLI (`--cli`) as a second client, configured by the very snippet
    `--print-config claude-desktop` prints (an `mcpServers` file)."""
    node, launcher = INSPECTOR
    r = selfos("mcp", "--server", server.url, "--user", USER, "--passphrase-file", str(pass_file),
               "--pull-every", "0", "--print-config", "claude-desktop")
    config = tmp / "claude_desktop_config.json"
    config.write_text(r.stdout)
    base = [node, launcher, "--cli", "--config", str(config), "--server", "selfos"]

    def inspect(*args: str) -> tuple[subprocess.CompletedProcess, dict]:
        r = subprocess.run([*base, *args], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, HOME=str(tmp), MCP_INSPECTOR_SECRET_STORE="memory"))
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, {}

    r, out = inspect("--method", "tools/list")
    transcript.append(f"$ mcp-inspector --cli --config claude_desktop_config.json --server selfos --method tools/list\n"
                      + json.dumps([t.get("name") for t in out.get("tools", [])]))
    names = [t.get("name") for t in out.get("tools", [])]
    check("inspector: tools/list gives the three tools, with their schemas",
          r.returncode == 0 and names == ["get_profile", "search_profile", "propose_fact"]
          and all(t["inputSchema"]["type"] == "object" for t in out["tools"]), f"exit {r.returncode}: {r.stdout[:300]} {r.stderr[-300:]}")
    r, out = inspect("--method", "tools/call", "--tool-name", "get_profile", "--tool-arg", "max_chars=400")
    text = "".join(c.get("text", "") for c in out.get("content", []))
    transcript.append("$ mcp-inspector --cli ... --method tools/call --tool-name get_profile --tool-arg max_chars=400\n"
                      + text)
    check("inspector: tools/call get_profile gives the context block within max_chars",
          r.returncode == 0 and not out.get("isError") and text.startswith("Context about me")
          and len(text) <= 400 and out.get("structuredContent", {}).get("facts"), f"exit {r.returncode}: {r.stdout[:300]} {r.stderr[-300:]}")
    r, out = inspect("--method", "tools/call", "--tool-name", "search_profile", "--tool-arg", "query=feedback")
    hits = out.get("structuredContent", {}).get("facts", [])
    check("inspector: tools/call search_profile finds facts with strength and evidence",
          r.returncode == 0 and hits and all("strength" in h and "evidence" in h for h in hits),
          f"exit {r.returncode}: {r.stdout[:300]} {r.stderr[-300:]}")
    r, out = inspect("--method", "tools/call", "--tool-name", "no_such_tool")
    check("inspector: an unknown tool is an error it reports (non-zero exit, tool_not_found)",
          r.returncode != 0 and "not found" in (r.stdout + r.stderr), f"exit {r.returncode}: {r.stdout[:300]} {r.stderr[-300:]}")


async def backup_checks(server: SyncServer, pass_file: pathlib.Path, tmp: pathlib.Path) -> None:
    """`--backup FILE`: the same tools on an encrypted backup, without any server."""
    backup = tmp / "backup.json"
    r = selfos("export", "--server", server.url, "--user", USER, "--passphrase-file", str(pass_file),
               "--format", "backup", "--out", str(backup))
    if not check("backup exported", r.returncode == 0, r.stderr):
        return
    bad = tmp / "wrong-pass"
    r = subprocess.run([str(SELFOS), "mcp", "--backup", str(backup), "--passphrase-file", str(bad)],
                       input="", capture_output=True, text=True, timeout=60)
    check("--backup with a wrong passphrase: non-zero exit, stderr says so, stdout empty",
          r.returncode != 0 and "passphrase" in r.stderr and r.stdout == "", r.stderr)
    server.stop()  # a backup needs no server
    try:
        p = StdioServerParameters(command=str(SELFOS),
                                  args=["mcp", "--backup", str(backup), "--passphrase-file", str(pass_file)])
        async with stdio_client(p) as (read, write):
            async with ClientSession(read, write, client_info=Implementation(name="Cursor", version="1")) as session:
                await session.initialize()
                r = await session.call_tool("get_profile", {})
                check("--backup: get_profile serves the backup's profile (generic agent `mcp` for Cursor)",
                      not r.is_error and r.structured_content["agent"] == "mcp"
                      and text_of(r).startswith("Context about me"), text_of(r)[:200])
                r = await session.call_tool("propose_fact", {"statement": "I use Cursor at work."})
                check("--backup: propose_fact is kept in memory and says so",
                      not r.is_error and "in memory" in text_of(r), text_of(r))
    finally:
        server.start()


async def main() -> int:
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="selfos-mcp-test-"))
    server = SyncServer(tmp / "server-data")
    try:
        server.start()
        pass_file = tmp / "pass"
        pass_file.write_text(PASSPHRASE + "\n")
        r = selfos("demo", "--server", server.url, "--user", USER, "--passphrase-file", str(pass_file))
        if not check("demo account created", r.returncode == 0, r.stderr):
            return 1
        wrong_passphrase(server, tmp)
        print_config(server, pass_file)
        await asyncio.wait_for(session_checks(server, pass_file, tmp), timeout=300 if BROWSER else 90)
        if INSPECTOR:
            await asyncio.to_thread(inspector_checks, server, pass_file, tmp)
        await asyncio.wait_for(backup_checks(server, pass_file, tmp), timeout=60)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if TRANSCRIPT:
        TRANSCRIPT.write_text("\n".join(transcript) + "\n")
    print(f"{passed} passed, {failed} failed")
    return min(failed, 100)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
