// The whole product end to end in headless Chromium: one real `selfos serve` (embedded
// SQLite, serving dist/webapp), the unpacked extension (dist/chrome) answering cards on a
// fixture AI site, and the web app in the same browser. It proves the capture-to-dashboard
// loop: answers captured in the extension reach the web app's graph and metrics through
// end-to-end encrypted sync, and a delete in the web app leaves the extension's vault.
//
//   node tests/product/e2e.mjs
// Environment: as tests/extension/e2e.mjs and tests/webapp/e2e.mjs (SELFOS_EXTENSION,
// SELFOS_WEBAPP, SELFOS_BIN, SELFOS_NODE_MODULES, SELFOS_CHROMIUM, SELFOS_E2E_OUT).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchExtension } from '../extension/driver.mjs';
import { check, out, selfosBin, startSelfos, suite, until, untilText } from '../harness.mjs';
import { go, openApp, signIn, webapp } from '../webapp/driver.mjs';

const PASSPHRASE = 'a loop through the whole product';
const USER = 'loop';
const ANSWERS = 4;

const ext = await launchExtension();
const server = await startSelfos({
  data: join(ext.tmp, 'server'),
  env: { SELFOS_WEBAPP: webapp, SELFOS_ALLOWED_ORIGINS: ext.origin },
});
const { test, fail, summary } = suite();

/** The account as the server holds it, decrypted by the CLI with the passphrase alone. */
function serverRecords() {
  const pass = join(ext.tmp, 'pass'), file = join(ext.tmp, `export-${Date.now()}.json`);
  writeFileSync(pass, PASSPHRASE);
  execFileSync(selfosBin, ['export', '--server', server.base, '--user', USER, '--passphrase-file', pass,
    '--format', 'json', '--out', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(file, 'utf8')).records;
}

async function loop() {
  const captured = [];
  let app;
  let deleted;

  await test('the extension captures answers on an AI site and syncs them, sealed, to the server', async () => {
    await ext.unlock(PASSPHRASE);
    const r = await ext.send({ type: 'sign_in', server: server.base, username: USER, passphrase: PASSPHRASE, create: true });
    check(r.ok, `sign in from the extension: ${JSON.stringify(r)}`);
    const site = await ext.openSite('chatgpt.com');
    for (let i = 0; i < ANSWERS; i++) captured.push(await ext.captureOne(site));
    await site.screenshot({ path: join(out, 'product-card.png') });
    const synced = await ext.send({ type: 'sync_now' });
    check(synced.ok, `sync: ${JSON.stringify(synced)}`);
    const s = await ext.status();
    check(s.records === ANSWERS && s.sync.pending === 0, `all ${ANSWERS} answers pushed: ${JSON.stringify(s)}`);
    check(serverRecords().length === ANSWERS, 'the server account holds every answer');
  });

  await test("the popup's Open dashboard leads to the web app, which shows those answers in its metrics", async () => {
    await ext.popup.reload();
    await ext.popup.waitForSelector('#dashboard');
    const [opened] = await Promise.all([ext.ctx.waitForEvent('page'), ext.popup.click('#dashboard')]);
    await opened.waitForLoadState();
    check(opened.url().startsWith(server.base), `the dashboard is the sync server's web app: ${opened.url()}`);
    // The web app already knows who is signing in: the extension passed the account's name.
    await opened.waitForSelector('#username');
    await until('the username filled in', async () => (await opened.inputValue('#username')) === USER, 10000);
    await opened.close();
    app = await openApp(ext.ctx, server.base);
    await signIn(app, USER, PASSPHRASE);
    await app.waitForSelector('#overview');
    await untilText(app, '#stat-answers .value', new RegExp(`^\\s*${ANSWERS}\\b`));
    const agents = await app.$$eval('#alignment .agent[data-agent]', (els) => els.map((e) => e.dataset.agent));
    check(agents.includes('chatgpt'), `ChatGPT has an alignment entry: ${agents}`);
    check(await app.$$eval('#most-certain li', (l) => l.length) > 0, 'the most certain facts are listed');
    check(await app.$$eval('#known-facts li', (l) => l.length) > 0, 'the overview says what SelfOS knows');
    await app.screenshot({ path: join(out, 'product-overview.png'), fullPage: true });
  });

  await test('the graph holds nodes whose evidence is those answers', async () => {
    await go(app, 'data');
    const ids = await app.$$eval('table#records tr[data-record]', (rows) => rows.map((r) => r.dataset.record));
    check(ids.length === ANSWERS, `the data table lists ${ids.length} answers, not ${ANSWERS}`);
    for (const { question } of captured) {
      const q = question.trim().slice(0, 30);
      check((await app.textContent('table#records')).includes(q), `the table shows "${q}"`);
    }
    await go(app, 'overview');
    await app.click('#most-certain li:first-child button');
    await app.waitForSelector('html[data-view=graph]');
    await until('the graph drawing', async () => Number(await app.getAttribute('canvas#graph', 'data-nodes')) > 0, 10000);
    await app.waitForSelector('#node-details[data-node]');
    const evidence = await app.$$eval('#evidence li[data-record]', (l) => l.map((e) => e.dataset.record));
    check(evidence.length > 0 && evidence.every((id) => ids.includes(id)), `the node's evidence is the captured answers: ${evidence}`);
    await app.screenshot({ path: join(out, 'product-graph.png') });
  });

  await test('a delete in the web app leaves the server and, at its next sync, the extension', async () => {
    await go(app, 'data');
    const row = 'table#records tr[data-record]:first-child';
    deleted = await app.getAttribute(row, 'data-record');
    await app.click(`${row} button.delete`);
    await app.click(`tr[data-record="${deleted}"] button.delete:has-text("Confirm")`);
    await until('the row to go', async () => !(await app.$(`tr[data-record="${deleted}"]`)), 5000);
    await until('the delete to reach the server', async () => serverRecords().every((r) => r.id !== deleted), 20000, 500);
    const before = (await ext.status()).records;
    const synced = await ext.send({ type: 'sync_now' });
    check(synced.ok, `extension sync: ${JSON.stringify(synced)}`);
    const s = await ext.status();
    check(before === ANSWERS && s.records === ANSWERS - 1, `the extension's vault went from ${before} to ${s.records} answers, not ${ANSWERS - 1}`);
    check(serverRecords().length === ANSWERS - 1, 'the server keeps the others');
  });

  await test('an answer captured afterwards reaches the web app at its next sync', async () => {
    const site = ext.ctx.pages().find((p) => p.url().startsWith('https://chatgpt.com'));
    await ext.captureOne(site);
    const synced = await ext.send({ type: 'sync_now' });
    check(synced.ok, `extension sync: ${JSON.stringify(synced)}`);
    await app.bringToFront();
    await app.click('#sync-status');
    await go(app, 'overview');
    await untilText(app, '#stat-answers .value', new RegExp(`^\\s*${ANSWERS}\\b`), 20000);
  });

  await test('context inserted in the chat is a delivery: after a sync the web app counts it in ChatGPT\'s alignment', async () => {
    const card = '#alignment .agent[data-agent=chatgpt]';
    const shown = async () => parseFloat(await app.textContent(`${card} .big`));
    check((await shown()) === 0, `nothing given to ChatGPT yet: ${await shown()}%`);
    const block = await ext.send({ type: 'context', agent: 'chatgpt' });
    check(block.ok && block.data.facts.length > 0, `the extension has something to tell ChatGPT: ${JSON.stringify(block)}`);
    const site = ext.ctx.pages().find((p) => p.url().startsWith('https://chatgpt.com'));
    await site.bringToFront();
    await site.click('#prompt-textarea');
    await site.keyboard.press('Alt+Shift+KeyI');
    await until('the delivery record in the extension', async () => {
      const r = await ext.send({ type: 'deliveries' });
      return r.ok && r.data.some((d) => d.agent === 'chatgpt' && d.method === 'inserted');
    }, 5000);
    const synced = await ext.send({ type: 'sync_now' });
    check(synced.ok, `extension sync: ${JSON.stringify(synced)}`);
    await app.bringToFront();
    await app.click('#sync-status');
    await untilText(app, `${card} .delivery`, /1 delivery · last inserted into a chat/, 20000);
    check((await shown()) > 0, `ChatGPT's alignment rose to ${await shown()}%`);
    await app.screenshot({ path: join(out, 'product-alignment.png'), fullPage: true });
  });
}

try {
  await loop();
} catch (e) {
  fail('setup', e);
} finally {
  await server.stop();
  await ext.close();
}
process.exit(summary('capture-to-dashboard loop'));
