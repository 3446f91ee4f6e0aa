// End-to-end tests of the Firefox build (dist/firefox) in headless Firefox ESR, driven by
// geckodriver: the add-on is installed as a temporary add-on, the AI sites' host names reach
// the same HTTPS fixture server as the Chromium suite (through a loopback CONNECT proxy, since
// Firefox has no host-resolver rules), and the tests act through the real UI: the popup, the
// card (answered by keyboard), sync to a real `selfos serve` and the web app it serves.
// Firefox's WebDriver reaches into the overlay's closed shadow root, so the tests read the
// card frame's own state (`data-state`) as the Chromium suite does.
//
//   node tests/firefox/e2e.mjs
// Environment: SELFOS_GECKODRIVER (geckodriver), SELFOS_FIREFOX (/usr/bin/firefox-esr),
// SELFOS_EXTENSION (dist/firefox), SELFOS_WEBAPP (dist/webapp), SELFOS_BIN, SELFOS_E2E_OUT.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, freePort, out, root, seedProfileWith, selfosBin, sleep, startSelfos, suite, until } from '../harness.mjs';
import { readVaultInPage } from '../extension/driver.mjs';
import { webapp } from '../webapp/driver.mjs';
import { serveFixtures } from '../extension/fixtures/server.mjs';
import { newSession, startGeckodriver } from './webdriver.mjs';

const PASSPHRASE = 'correct horse battery staple';
const ADDON_ID = 'selfos@selfos.app';
/** Fixed through `extensions.webextensions.uuids`, so the tests know the add-on's origin. */
const UUID = '5e1f05aa-7e57-4f1e-8000-000000000001';
const ORIGIN = `moz-extension://${UUID}`;
const extension = process.env.SELFOS_EXTENSION || join(root, 'dist/firefox');

/** The opening words of every question in the card library (assets/cards). */
function cardQuestions() {
  const dir = join(root, 'assets/cards');
  return readdirSync(dir).filter((f) => f.endsWith('.json'))
    .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).cards)
    .map((c) => c.text.split('{')[0].trim().slice(0, 24))
    .filter((q) => q.length >= 12);
}

/** A CONNECT proxy that sends every HTTPS host to the fixture server. */
async function fixtureProxy(fixturePort) {
  const proxy = createServer((req, res) => { res.writeHead(405); res.end(); });
  proxy.on('connect', (req, client, head) => {
    const upstream = connect(fixturePort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  return proxy;
}

const tmp = mkdtempSync(join(tmpdir(), 'selfos-firefox-'));
const fixtures = await serveFixtures(tmp);
const proxy = await fixtureProxy(fixtures.address().port);
const gecko = await startGeckodriver(process.env.SELFOS_GECKODRIVER || 'geckodriver');
const b = await newSession(gecko.base, {
  browserName: 'firefox',
  acceptInsecureCerts: true,
  'moz:firefoxOptions': {
    binary: process.env.SELFOS_FIREFOX || '/usr/bin/firefox-esr',
    args: ['-headless', '-width', '1280', '-height', '800'],
    prefs: {
      'network.proxy.type': 1,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': proxy.address().port,
      'extensions.webextensions.uuids': JSON.stringify({ [ADDON_ID]: UUID }),
    },
  },
});

const { test, summary } = suite();
const shot = async (name) => writeFileSync(join(out, name), await b.screenshot());

// The popup stays open in the first window; each site gets a window of its own, so that
// switching between them never sends a generating page to a throttled background tab.
let popupWindow;
/** A request to the background from the popup page, as the popup sends it. */
async function send(msg) {
  await b.switchTo(popupWindow);
  return b.run((m) => browser.runtime.sendMessage(m), msg);
}
async function status() {
  const r = await send({ type: 'status' });
  check(r.ok, JSON.stringify(r));
  return r.data;
}

/** (Re)opens the popup page in the popup's window, as a click on the toolbar button would. */
async function openPopup() {
  await b.switchTo(popupWindow);
  // WebDriver may not navigate to an add-on's pages; the browser's own code may.
  await b.cmd('POST', '/moz/context', { context: 'chrome' });
  await b.cmd('POST', '/execute/sync', { script: "openTrustedLinkIn(arguments[0], 'current')", args: [`${ORIGIN}/popup.html`] });
  await b.cmd('POST', '/moz/context', { context: 'content' });
}

async function openSite(host, path = '/') {
  const handle = await b.newWindow();
  await b.goto(`https://${host}${path}`);
  await until(`the overlay host on ${host}${path}`, () => b.run(() => !!document.querySelector('selfos-overlay')), 8000, 50);
  await until(`a card ready on ${host}${path}`, async () => (await frameState()) === 'ready', 15000, 50);
  await sleep(900); // The detector ignores the first 800 ms after load (initial renders flash controls).
  return handle;
}

/** Runs `fn` in the current page's card frame (inside the overlay's closed shadow root). */
async function inCardFrame(fn) {
  const overlay = await b.find('selfos-overlay');
  const root = Object.values(await b.cmd('GET', `/element/${overlay}/shadow`))[0];
  const frame = await b.cmd('POST', `/shadow/${root}/element`, { using: 'css selector', value: 'iframe' });
  await b.cmd('POST', '/frame', { id: frame });
  try {
    return await b.run(fn);
  } finally {
    await b.cmd('POST', '/frame/parent', {});
  }
}
/** The card frame's state: sensing, ready, no-card or off. */
const frameState = () => inCardFrame(() => document.documentElement.dataset.state);
const overlayVisible = () => b.run(() => {
  const h = document.querySelector('selfos-overlay');
  return !!h && getComputedStyle(h).visibility === 'visible' && h.getBoundingClientRect().height > 0;
});
const generate = (opts) => b.run((o) => { window.fixture.generate(o); }, opts);
const running = () => b.run(() => window.fixture.state.running);

/** Generates on the site in `handle` and waits for its card. */
async function cardDuringGeneration(handle, opts = { ms: 3000 }) {
  await b.switchTo(handle);
  // A generation still streaming must end first, for the fixture and for the detector (its
  // stop-gone debounce); then the frame holds its next card.
  await until('the last generation to end', async () => !(await running()), 8000);
  await until('the detector to be idle', async () => (await inCardFrame(() => document.documentElement.dataset.wait)) !== 'waiting', 3000, 50);
  await until('the next card', async () => (await frameState()) === 'ready', 5000, 50);
  await generate(opts);
  try {
    await until('the card to show', overlayVisible, 4000, 25);
  } catch (e) {
    const origin = new URL(await b.cmd('GET', '/url')).origin;
    const site = await send({ type: 'site', origin });
    const why = await send({ type: 'next_card', agent: site.data?.adapter?.id, origin });
    const frame = await b.switchTo(handle).then(() => inCardFrame(() => JSON.stringify(document.documentElement.dataset)));
    throw new Error(`${e.message}; the frame says ${frame}; the background says ${JSON.stringify(why)}`);
  }
}

try {
  await test('Firefox: the popup creates the vault; a wrong passphrase is refused with a clear message', async () => {
    const addon = await b.installAddon(extension);
    check(addon === ADDON_ID, `installed ${addon}`);
    popupWindow = (await b.cmd('GET', '/window'));
    await openPopup();
    await until('the popup form', () => b.find('#confirm'), 20000, 100);
    await b.fill('#passphrase', PASSPHRASE);
    await b.fill('#confirm', PASSPHRASE);
    await b.click('#unlock');
    await until('the unlocked popup', () => b.find('#today'), 30000, 100);
    await shot('firefox-popup-unlocked.png');
    await b.click('#lock');
    await until('the locked popup', () => b.find('#passphrase'), 5000, 50);
    await b.fill('#passphrase', 'not my passphrase');
    await b.click('#unlock');
    await until('the wrong-passphrase message', () => b.run(() => /passphrase/i.test(document.querySelector('.err')?.textContent || '')), 30000, 100);
    await b.fill('#passphrase', PASSPHRASE);
    await b.click('#unlock');
    await until('the unlocked popup', () => b.find('#today'), 30000, 100);
    check((await status()).vault === 'unlocked', 'vault unlocked');
  });

  const sites = {};
  for (const host of ['chatgpt.com', 'claude.ai', 'gemini.google.com']) {
    await test(`Firefox, ${host}: the card shows while the AI generates and closes itself when it finishes`, async () => {
      sites[host] = await openSite(host);
      await cardDuringGeneration(sites[host]);
      if (host === 'chatgpt.com') {
        await sleep(200); // the 120 ms fade-in
        await shot('firefox-card-chatgpt.png');
      }
      check(await b.run(() => document.activeElement?.tagName !== 'SELFOS-OVERLAY'), 'the card never takes focus by itself');
      await until('the generation to finish', async () => !(await running()), 6000);
      await until('the card to close by itself', async () => !(await overlayVisible()), 2500);
    });
  }

  await test('Firefox: an answer picked with the keyboard reaches the vault, encrypted', async () => {
    const before = await status();
    await cardDuringGeneration(sites['chatgpt.com'], { ms: 3500 });
    const question = (await inCardFrame(() => document.getElementById('q').textContent)).trim();
    check(question.length > 5, 'the card has a question');
    await b.keys(['\uE00A', '\uE008', 'S']); // Alt+Shift+S focuses the card
    await sleep(150);
    await b.keys('1'); // the first choice (a text card takes the digit as its text)
    await b.keys('\uE007'); // Enter submits a text card; a choice card has closed already
    await until('the answer to be saved', async () => (await status()).records === before.records + 1, 6000, 100);
    await b.switchTo(popupWindow);
    const dump = await b.run(readVaultInPage);
    check(dump.records === before.records + 1, `the vault holds ${dump.records} records`);
    check(!dump.text.includes(question.slice(0, 24)), `the question "${question}" is not stored in clear`);
    const leaked = cardQuestions().filter((q) => dump.text.includes(q));
    check(leaked.length === 0, `questions stored in clear: ${leaked.join(' | ')}`);
  });

  await test('Firefox: the card frame cannot read the vault key, and its card comes through the content script', async () => {
    // The background keeps the unwrapped key in storage.session (an extension page sees it).
    await b.switchTo(popupWindow);
    const held = await b.run(async () => typeof (await browser.storage.session.get('vault_key')).vault_key);
    check(held === 'string', `the background keeps the session key (${held})`);
    // Firefox (before 154) has no manifest sandbox: the card frame is an extension page, but one
    // in the web page's process, where storage.session is not exposed. It uses no extension API.
    await b.switchTo(sites['chatgpt.com']);
    const seen = await inCardFrame(() => typeof globalThis.chrome?.storage?.session);
    check(seen === 'undefined', `storage.session in the card frame: ${seen}`);
    check(await frameState() === 'ready', 'the card frame holds a card');
  });

  // Each site inserts the assistant's empty container first, as the real ones do: only answer
  // text counts as an answer, so every failure is told apart from a normal finish.
  // Every site's fixture, like the Chromium suite: the first three are open already.
  for (const host of ['chatgpt.com', 'claude.ai', 'gemini.google.com', 'www.perplexity.ai',
    'copilot.microsoft.com', 'chat.mistral.ai', 'chat.deepseek.com', 'poe.com']) {
    await test(`Firefox, ${host}: a failed generation ends as a failure: an error banner, a retry control, a vanished stop`, async () => {
      sites[host] ||= await openSite(host);
      for (const [fail, why] of [['error', 'failed:error'], ['retry', 'failed:retry'], ['vanish', 'failed:no_answer']]) {
        await cardDuringGeneration(sites[host], { ms: 2500, fail });
        await until('the generation to fail', async () => !(await running()), 6000, 50);
        await until(`the card to close on failure (${fail})`, async () => !(await overlayVisible()), 2500, 50);
        await until(`the end taken for ${why}`, async () => (await inCardFrame(() => document.documentElement.dataset.ended)) === why, 2000, 50);
      }
    });
  }

  await test('Firefox: Alt+Shift+I puts my context into the real ProseMirror at the caret; with consent a new chat starts with it', async () => {
    await seedProfileWith(send, 'chatgpt', 'https://chatgpt.com');
    const block = (await send({ type: 'context', agent: 'chatgpt' })).data;
    const last = block.facts[block.facts.length - 1].sentence;
    const text = () => b.run(() => window.fixture.editor.text());
    await b.switchTo(sites['chatgpt.com']);
    await until('the last generation to end', async () => !(await running()), 8000);
    await b.run(() => window.fixture.editor.clear());
    await b.click('#dock .ProseMirror');
    await b.keys(['\uE00A', '\uE008', 'I']); // Alt+Shift+I
    await until('the context in the editor', async () => (await text()).includes(last), 5000, 100);
    check(await b.run(() => window.fixture.editor.canSend()), "the site's send button enables");
    check((await b.run(() => window.fixture.editor.sent.length)) === 0, 'nothing sent');
    await until('the delivery record', async () => (await send({ type: 'deliveries' })).data.some((d) => d.agent === 'chatgpt' && d.method === 'inserted'), 3000, 100);
    // Standing consent: a new chat starts with the context, once.
    await send({ type: 'set_new_chat_context', agent: 'chatgpt', on: true });
    await b.switchTo(sites['chatgpt.com']);
    await b.run(() => { window.fixture.editor.clear(); window.fixture.navigate('/c/firefox-new', 0); });
    await until('the new chat starts with the context', async () => (await text()).includes(last), 5000, 100);
    await shot('firefox-new-chat-context.png');
    await send({ type: 'set_new_chat_context', agent: 'chatgpt', on: false });
    await b.switchTo(sites['chatgpt.com']);
    await b.run(() => window.fixture.editor.clear());
  });

  await test("Firefox: a page with `default-src 'self'; frame-src 'none'; script-src 'self'` still gets its card", async () => {
    const page = await openSite('chatgpt.com', '/strict');
    await cardDuringGeneration(page);
    await sleep(200); // the 120 ms fade-in
    await shot('firefox-card-strict-csp.png');
    await until('the card to close', async () => !(await overlayVisible()), 6000);
  });

  await test('Firefox: never a card while the vault is locked; unlocking brings cards back without a reload', async () => {
    // The claude.ai tab fetched its card while the vault was unlocked.
    await b.switchTo(popupWindow);
    await b.click('#lock');
    await until('the locked popup', () => b.find('#passphrase'), 5000, 50);
    await b.switchTo(sites['claude.ai']);
    await until('the open tab to drop its ready card', async () => (await frameState()) === 'no-card', 5000, 50);
    await until('the last generation to end', async () => !(await running()), 8000);
    // The first generation while locked: a one-line hint in the card's place, never a card.
    await generate({ ms: 3000 });
    await until('the locked hint', overlayVisible, 3000, 50);
    const seen = await inCardFrame(() => ({ hint: document.querySelector('#locked-hint')?.textContent || '', card: !!document.querySelector('#card') }));
    check(/locked/.test(seen.hint) && !seen.card, `a one-line hint and no card: ${JSON.stringify(seen)}`);
    await until('the hint to close with the generation', async () => !(await overlayVisible()), 6000, 50);
    await until('the generation to end', async () => !(await running()), 6000);
    // Once per page: the next generation shows nothing.
    await generate({ ms: 3000 });
    await sleep(1800);
    check(!(await overlayVisible()), 'nothing more while locked');
    await until('the generation to end', async () => !(await running()), 6000);
    await b.switchTo(popupWindow);
    check(await b.run(() => browser.action.getBadgeText({})) === 'lock', 'the toolbar badge says locked');
    await b.fill('#passphrase', PASSPHRASE);
    await b.click('#unlock');
    await until('the unlocked popup', () => b.find('#today'), 30000, 100);
    check(await b.run(() => browser.action.getBadgeText({})) === '', 'no badge once unlocked');
    await b.switchTo(sites['claude.ai']);
    await until('the tab to fetch a card again, without a reload', async () => (await frameState()) === 'ready', 5000, 50);
    await cardDuringGeneration(sites['claude.ai']);
    await until('the card to close', async () => !(await overlayVisible()), 6000);
  });

  await test('Firefox: signed in, answers sync to a real server; the web app, in Firefox too, shows them', async () => {
    const port = await freePort();
    const server = `http://127.0.0.1:${port}`;
    const sync = await startSelfos({ port, data: join(tmp, 'sync-data'), env: { SELFOS_ALLOWED_ORIGINS: ORIGIN, SELFOS_WEBAPP: webapp } });
    try {
      const r = await send({ type: 'sign_in', server, username: 'firefox', passphrase: PASSPHRASE, create: true });
      check(r.ok, `sign in: ${JSON.stringify(r)}`);
      const s = await status();
      check(s.account === 'firefox' && s.sync.pending === 0 && s.sync.last_error === null, `first sync: ${JSON.stringify(s)}`);
      const pass = join(tmp, 'pass'), exported = join(tmp, 'export.json');
      writeFileSync(pass, PASSPHRASE);
      execFileSync(selfosBin, ['export', '--server', server, '--user', 'firefox', '--passphrase-file', pass, '--format', 'json', '--out', exported], { stdio: 'inherit' });
      const records = JSON.parse(readFileSync(exported, 'utf8')).records;
      check(records.length === s.records && records.length >= 1, `the account holds all ${s.records} answers: ${records.length}`);
      await openPopup();
      await until('the popup to say it synced', () => b.run(() => /firefox: synced .* 0 waiting/.test(document.querySelector('#sync')?.textContent || '')), 10000, 100);
      await shot('firefox-popup-synced.png');
      // The dashboard, served by the same server, signed in with the same passphrase.
      await b.newWindow();
      await b.goto(server);
      await until('the sign-in form', () => b.find('html[data-ready=unlock]'), 20000, 100);
      await b.fill('#username', 'firefox');
      await b.fill('#passphrase', PASSPHRASE);
      await b.click('#unlock');
      await until('the overview', () => b.find('#overview'), 60000, 100);
      const answers = await until('the answer count', () => b.run(() => document.querySelector('#stat-answers .value')?.textContent.trim()), 20000, 100);
      check(Number(answers.replace(/,/g, '')) === s.records, `the overview counts ${answers} answers, the extension ${s.records}`);
      await shot('firefox-webapp-overview.png');
      // Another view, from the module loaded on demand.
      await b.click('[data-view=graph]');
      await until('the graph view', () => b.find('html[data-view=graph]'), 20000, 100);
      check(!(await b.run(() => document.documentElement.hasAttribute('data-load-failed'))), 'the views module loaded');
      await shot('firefox-webapp-graph.png');
    } finally {
      await send({ type: 'sign_out' }).catch(() => {});
      await sync.stop();
    }
  });
} finally {
  await b.close();
  gecko.stop();
  fixtures.close();
  proxy.close();
  rmSync(tmp, { recursive: true, force: true });
}

process.exit(summary('extension end to end in headless Firefox'));
