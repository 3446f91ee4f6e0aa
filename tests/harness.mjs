// Shared by the browser end-to-end suites (tests/extension, tests/webapp, tests/product,
// tests/firefox): waiting, checking, a real `selfos serve` on a free port, and the pass/fail tally.
// Nothing here knows the product; each suite's driver does.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where playwright-core lives (`cargo xtask setup` installs it into .tools/). */
export const modules = process.env.SELFOS_NODE_MODULES || join(root, '.tools/node_modules');
export const selfosBin = process.env.SELFOS_BIN || join(root, 'target/debug/selfos');
export const chromiumPath = process.env.SELFOS_CHROMIUM || '/usr/bin/chromium';
/** Screenshots go here (default target/e2e). */
export const out = process.env.SELFOS_E2E_OUT || join(root, 'target/e2e');
mkdirSync(out, { recursive: true });

export const { chromium } = await import(join(modules, 'playwright-core/index.mjs'));

/** Flags every headless run needs on a machine with no network but the package registries
 *  (without the background-networking ones Chromium's own connections are refused, many at a
 *  time), timers not throttled. */
export const CHROME_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export function check(cond, message) { if (!cond) throw new Error(message); }

/** Polls `f` until it returns something truthy (which is returned); errors count as "not yet". */
export async function until(what, f, timeout = 5000, every = 10) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(every);
  }
}

/** Waits until `selector`'s text (in a page or frame) matches `re`; on timeout, says what it was. */
export async function untilText(page, selector, re, timeout = 20000) {
  let last = '';
  try {
    return await until(`${selector} to match ${re}`, async () => { last = await page.textContent(selector); return re.test(last); }, timeout, 25);
  } catch (e) {
    throw new Error(`${e.message}; it says: ${last}`);
  }
}

/** A free loopback port. */
export const freePort = () => new Promise((ok, err) => {
  const s = createServer();
  s.once('error', err);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

/**
 * Starts a real `selfos serve` (embedded SQLite in `data`) and resolves once /healthz answers.
 * `env` adds variables (SELFOS_WEBAPP, SELFOS_ALLOWED_ORIGINS, ...). Restart on the same
 * `port` to bring a stopped server back.
 */
export async function startSelfos({ data, port, env = {} }) {
  if (!existsSync(selfosBin)) throw new Error(`${selfosBin} is missing: run \`cargo build -p sync-server\` (cargo xtask test does)`);
  port = port || await freePort();
  const proc = spawn(selfosBin, ['serve'], {
    env: { ...process.env, RUST_LOG: 'warn', ...env, SELFOS_ADDR: `127.0.0.1:${port}`, SELFOS_DATA: data },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; if (process.env.SELFOS_E2E_DEBUG) process.stderr.write(d); });
  const base = `http://127.0.0.1:${port}`;
  await until('the server to answer /healthz', async () => (await fetch(`${base}/healthz`)).ok, 20000, 100)
    .catch((e) => { proc.kill('SIGKILL'); throw new Error(`${e.message}\n${log}`); });
  const stop = () => new Promise((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return r();
    proc.once('exit', r);
    proc.kill('SIGTERM');
  });
  return { proc, port, base, data, stop, log: () => log };
}

/** The pass/fail tally of one suite: `test(name, f)` runs and reports one case. */
export function suite() {
  const results = [];
  return {
    results,
    async test(name, f) {
      const t = Date.now();
      try {
        await f();
        results.push([name, 'ok']);
        console.log(`ok   ${name} (${Date.now() - t} ms)`);
      } catch (e) {
        results.push([name, e]);
        console.log(`FAIL ${name}: ${process.env.SELFOS_E2E_DEBUG ? e.stack : e.message}`);
      }
    },
    fail(name, e) {
      results.push([name, e]);
      console.log(`FAIL ${name}: ${e.stack || e}`);
    },
    /** Prints the tally and returns the process exit code. */
    summary(title) {
      const failed = results.filter(([, r]) => r !== 'ok').length;
      console.log(`\n${title} (screenshots in ${out}):\n${results.length - failed} passed, ${failed} failed`);
      return failed ? 1 : 0;
    },
  };
}

/** Saves answers as the card frame does (the same `save` request, through `send`), to give
 * the profile known facts for `agent`: brief answers, a neutral tone, an expert programmer in
 * technology, a goal for the week, and the meta card (never told to an agent). */
export async function seedProfileWith(send, agent, origin) {
  const cards = [['style.length.quick-question', 1, 'brief'], ['style.tone.which-tone', 1, 'neutral'],
    ['expertise.programming.level', 3, 'expert'], ['work.field.which', 2, 'technology'],
    ['agent.understands.first-time', 1, 'high']];
  const save = (card_id, card_version, card_type, answer) => send({ type: 'save', card_id, card_version, card_type, answer,
    agent, origin, answer_latency_ms: 1500, wait_duration_ms: 6000 });
  for (const [card, version, option] of cards) {
    for (let i = 0; i < 2; i++) check((await save(card, version, 'choice', { kind: 'choice', option })).ok, `saved ${card}`);
  }
  for (let i = 0; i < 2; i++) check((await save('goals.this-week.what', 1, 'short_text', { kind: 'short_text', text: 'ship the zqvault release' })).ok, 'saved a free-text answer');
}

/**
 * Calls one tool of a real `selfos mcp` (the `selfos` under test, signed in to `server` as
 * `user`) as an MCP client over stdio does: newline-delimited JSON-RPC, `initialize`, the
 * `initialized` notification, then `tools/call`. Resolves with the call's result; rejects on a
 * protocol error, an early exit (with what it printed on stderr) or after `timeout` ms. The
 * MCP suite (tests/mcp) checks the protocol with the official SDKs; this is for the browser
 * suites that need something an agent did, such as a proposal waiting for the user.
 */
export async function callMcpTool({ server, user, passFile, tool, args, client = 'claude-code', timeout = 30000 }) {
  const proc = spawn(selfosBin, ['mcp', '--server', server, '--user', user, '--passphrase-file', passFile],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const send = (m) => proc.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`selfos mcp did not answer in ${timeout} ms: ${stderr}`)), timeout);
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`selfos mcp exited (${code}): ${stderr}`)); });
      let buffered = '';
      proc.stdout.on('data', (d) => {
        buffered += d;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          const msg = JSON.parse(line);
          if (msg.error) { clearTimeout(timer); reject(new Error(`selfos mcp: ${JSON.stringify(msg.error)}`)); }
          if (msg.id === 1) {
            send({ method: 'notifications/initialized' });
            send({ id: 2, method: 'tools/call', params: { name: tool, arguments: args } });
          }
          if (msg.id === 2) { clearTimeout(timer); resolve(msg.result); }
        }
      });
      send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: client, version: 'e2e' } } });
    });
  } finally {
    proc.stdin.end();
    proc.kill('SIGTERM');
  }
}

let axeSource;
/**
 * Runs axe-core (Deque's accessibility engine, from `.tools/node_modules`) in `target` (a
 * page or a frame) and throws on any serious or critical violation, naming each rule, its
 * help text and the first offending elements. `name` says which view was checked. The
 * script is evaluated through the DevTools protocol, so a page's CSP does not stop it.
 */
export async function axeCheck(target, name) {
  axeSource ??= readFileSync(join(modules, 'axe-core/axe.min.js'), 'utf8');
  if (!(await target.evaluate(() => typeof window.axe === 'object'))) await target.evaluate(axeSource);
  const violations = await target.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
  });
  if (violations.length) throw new Error(`accessibility (axe-core) in ${name}:\n  ${violations.join('\n  ')}`);
}
