// A minimal W3C WebDriver client for geckodriver (Firefox), on Node's fetch: playwright-core
// cannot drive a stock Firefox, and this suite needs only a few commands.
import { spawn } from 'node:child_process';
import { freePort, until } from '../harness.mjs';

/** Starts geckodriver on a free port; `stop()` ends it. */
export async function startGeckodriver(bin) {
  const port = await freePort();
  const proc = spawn(bin, ['--port', String(port), '--host', '127.0.0.1', '--allow-system-access'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  await until('geckodriver to answer /status', async () => (await fetch(`${base}/status`)).ok, 20000, 100)
    .catch((e) => { proc.kill('SIGKILL'); throw new Error(`${e.message}\n${log}`); });
  return { base, log: () => log, stop: () => proc.kill('SIGTERM') };
}

/** One WebDriver session: `cmd(method, path, body)` and a few helpers on top of it. */
export async function newSession(base, capabilities) {
  async function call(method, path, body) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok || json.value?.error) {
      throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    }
    return json.value;
  }
  const created = await call('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
  const s = `/session/${created.sessionId}`;
  const cmd = (method, path, body) => call(method, `${s}${path}`, body);
  const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

  const find = async (css) => (await cmd('POST', '/element', { using: 'css selector', value: css }))[ELEMENT];
  return {
    cmd,
    capabilities: created.capabilities,
    goto: (url) => cmd('POST', '/url', { url }),
    /** Runs `fn` (a function's source, called with `args`) in the page; resolves its result. */
    run: (fn, ...args) => cmd('POST', '/execute/async', {
      script: `const done = arguments[arguments.length - 1];
        Promise.resolve((${fn}).apply(null, Array.from(arguments).slice(0, -1)))
          .then((v) => done({ ok: v }), (e) => done({ err: String(e && e.message || e) }));`,
      args,
    }).then((r) => { if (r.err !== undefined) throw new Error(r.err); return r.ok; }),
    find,
    click: async (css) => cmd('POST', `/element/${await find(css)}/click`, {}),
    /** Replaces the field's text, as a user selecting it all and typing would. */
    fill: async (css, text) => {
      const el = await find(css);
      await cmd('POST', `/element/${el}/clear`, {});
      return cmd('POST', `/element/${el}/value`, { text });
    },
    /** Presses keys through the actions API: each entry is a key or a chord (array). */
    keys: (...chords) => cmd('POST', '/actions', {
      actions: [{
        type: 'key',
        id: 'keyboard',
        actions: chords.flatMap((c) => {
          const ks = Array.isArray(c) ? c : [c];
          return [...ks.map((value) => ({ type: 'keyDown', value })), ...ks.reverse().map((value) => ({ type: 'keyUp', value }))];
        }),
      }],
    }),
    /** Opens a new browser window and makes it the current one. */
    newWindow: async () => {
      const { handle } = await cmd('POST', '/window/new', { type: 'window' });
      await cmd('POST', '/window', { handle });
      return handle;
    },
    switchTo: (handle) => cmd('POST', '/window', { handle }),
    screenshot: async () => Buffer.from(await cmd('GET', '/screenshot'), 'base64'),
    installAddon: (path) => cmd('POST', '/moz/addon/install', { path, temporary: true }),
    close: () => call('DELETE', s).catch(() => {}),
  };
}
