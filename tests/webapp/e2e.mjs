// End-to-end tests (and, with --bench, benchmarks) of the SelfOS web app in headless
// Chromium: a real `selfos serve` on a free loopback port serves dist/webapp, `selfos demo`
// fills an account, and the tests act through the app's UI as a user would (sign in, every
// view, edit and delete, every export, settings, offline unlock). Every request the browser
// makes outside that server is refused and counted as a failure: nothing is downloaded.
//
//   node tests/webapp/e2e.mjs [--bench]
// Environment: SELFOS_NODE_MODULES (playwright-core), SELFOS_BIN (target/debug/selfos),
// SELFOS_WEBAPP (dist/webapp), SELFOS_CHROMIUM (/usr/bin/chromium),
// SELFOS_E2E_OUT (screenshots, default target/e2e).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROME_ARGS, axeCheck, check, chromium, chromiumPath, out, selfosBin as selfos, sleep, startSelfos, suite, until, untilText } from '../harness.mjs';
import { go, openApp, signIn, webapp } from './driver.mjs';

const bench = process.argv.includes('--bench');
const DEMO_PASS = 'demo passphrase for SelfOS';
const NEW_PASS = 'a brand new demo passphrase';

/** `selfos serve` on a free port with its own data directory, serving dist/webapp. */
const startServer = (data) => startSelfos({ data, env: { SELFOS_WEBAPP: webapp } });

const tmp = mkdtempSync(join(tmpdir(), 'selfos-webapp-e2e-'));
const passFile = (name, text) => { const p = join(tmp, name); writeFileSync(p, text); return p; };
function cli(args) { return execFileSync(selfos, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }); }
function exportJson(base, user, pass) {
  const file = join(tmp, `export-${Date.now()}.json`);
  cli(['export', '--server', base, '--user', user, '--passphrase-file', passFile('p.txt', pass), '--format', 'json', '--out', file]);
  return JSON.parse(readFileSync(file, 'utf8'));
}

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROME_ARGS });
const foreign = [];
async function newContext(base, opts = {}) {
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 860 }, ...opts });
  // Only the server under test: anything else would be a download from the outside.
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(base + '/') || url === base) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  return ctx;
}
const shot = async (page, name, fullPage = name !== 'graph') => {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(out, `webapp-${name}.png`), fullPage });
};
const num = (s) => Number(String(s).replace(/[^0-9.]/g, ''));
async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click(selector)]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: readFileSync(path) };
}

const { results, test, fail, summary } = suite();

// ---- the tests --------------------------------------------------------------------------------
async function endToEnd() {
  const server = await startServer(join(tmp, 'data'));
  const { base } = server;
  const demo = cli(['demo', '--server', base, '--user', 'demo']);
  check(/answers pushed/.test(demo), `selfos demo said: ${demo}`);
  const live = exportJson(base, 'demo', DEMO_PASS).records;
  check(live.length > 100, `demo gave ${live.length} records`);

  // Clipboard permissions for the overview's "Copy for <agent>" delivery.
  const ctx = await newContext(base, { permissions: ['clipboard-read', 'clipboard-write'] });
  let page;
  let deleted;
  /** Alignment per agent, in percent, as the overview shows it. */
  const alignmentOf = async (p) => Object.fromEntries(await p.$$eval('#alignment .agent[data-agent]',
    (els) => els.map((e) => [e.dataset.agent, parseFloat(e.querySelector('.big').textContent)])));

  await test('a wrong passphrase shows a clear error and opens nothing', async () => {
    page = await openApp(ctx, base);
    await page.fill('#username', 'demo');
    await page.fill('#passphrase', 'not the passphrase');
    await page.click('#unlock');
    await page.waitForSelector('#error:not([hidden])', { timeout: 20000 });
    const text = await page.textContent('#error');
    check(/wrong username or passphrase/i.test(text), `error says: ${text}`);
    check(!(await page.$('#overview')), 'the overview must not open');
    await axeCheck(page, 'the unlock screen with its error');
  });

  await test('sign-in pulls the vault; the overview shows real figures', async () => {
    await signIn(page, 'demo', DEMO_PASS);
    const answers = num(await page.textContent('#stat-answers .value'));
    // `Answer` is tagged by `kind` (vault-core/src/record.rs); skips and dismissals are not answers.
    const skipped = live.filter((r) => r.answer.kind === 'skipped' || r.answer.kind === 'dismissed').length;
    check(skipped > 0 && skipped < live.length, `the demo holds some skips (${skipped} of ${live.length})`);
    check(answers === live.length - skipped, `answers tile says ${answers} (vault holds ${live.length}, ${skipped} skips)`);
    const skippedTile = num(await page.textContent('#stat-answers .hint'));
    check(skippedTile === skipped, `the tile says ${skippedTile} skipped, the vault holds ${skipped}`);
    check(num(await page.textContent('#stat-streak .value')) >= 1, 'a streak of at least a day');
    check((await page.$$('#chart-answers rect.bar')).length >= 60, 'bars for the last days');
    const agents = await page.$$eval('#alignment .agent', (els) => els.map((e) => e.dataset.agent));
    check(agents.length >= 3, `alignment for each agent: ${agents}`);
    const knowledge = await page.$$eval('#alignment .agent .metric .num', (els) => els.map((e) => parseFloat(e.textContent)));
    check(knowledge.some((v) => v > 0), `some knowledge and coverage is non-zero: ${knowledge}`);
    // Alignment is what each agent was actually given: nothing yet.
    const aligned = await alignmentOf(page);
    check(Object.values(aligned).every((v) => v === 0), `alignment is 0 before any delivery: ${JSON.stringify(aligned)}`);
    check(/never given your profile yet/.test(await page.textContent('#alignment .agent[data-agent=chatgpt] .delivery')),
      'the card says ChatGPT was never given the profile');
    check((await page.$$('#coverage tbody tr')).length >= 8, 'coverage rows per dimension');
    const facts = await page.$$eval('#known-facts li', (l) => l.map((e) => [e.querySelector('.sentence').textContent.trim(), e.querySelector('.certainty').textContent.trim()]));
    check(facts.length >= 3 && facts.every(([s, c]) => /[.!?]$/.test(s) && /sure/.test(c)),
      `the overview opens with what it knows, in sentences, each with how sure: ${JSON.stringify(facts.slice(0, 4))}`);
    const most = await page.$$eval('#most-certain li', (l) => l.map((e) => e.dataset.node));
    const least = await page.$$eval('#least-certain li', (l) => l.map((e) => e.dataset.node));
    check(most.length >= 5 && least.length >= 1 && most.every((n) => !least.includes(n)),
      `most and least certain are two lists, no fact in both: ${most} / ${least}`);
    check(/new answers?\./.test(await page.textContent('#changes')), 'what changed');
    check(/Synced|Syncing/.test(await page.textContent('#sync-status')), 'sync state shown');
    await shot(page, 'overview');
  });

  await test('accessibility: every view passes axe-core (no serious or critical violation), light and dark', async () => {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const view of ['overview', 'graph', 'timeline', 'data', 'export', 'proposals', 'settings']) {
        await go(page, view);
        if (view === 'timeline') await page.waitForSelector('#chart-strength', { timeout: 20000 });
        await axeCheck(page, `${view} (${scheme})`);
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await go(page, 'overview');
  });

  await test('a module that cannot be downloaded: a clear message, nothing lost, and a retry that works', async () => {
    // No service worker here, so nothing comes from its cache: the network is all there is.
    const other = await newContext(base, { serviceWorkers: 'block' });
    const blocked = new Set(['split_vault.wasm', 'split_views.wasm']);
    // Module files are named `split_<name>.<digest>.wasm`.
    await other.route(/\/pkg\/split_(vault|views)\.[0-9a-f]{16}\.wasm$/, (route) => {
      const name = new URL(route.request().url()).pathname.split('/').pop().replace(/\.[0-9a-f]{16}/, '');
      if (!blocked.has(name)) return route.continue();
      // The vault's module: the network is down. The views' module: the server no longer has
      // that file (as after an update, with this page still open).
      return name === 'split_vault.wasm' ? route.abort('internetdisconnected') : route.fulfill({ status: 404, body: 'not found' });
    });
    const p = await openApp(other, base);
    await p.fill('#username', 'demo');
    await p.fill('#passphrase', DEMO_PASS);
    await p.click('#unlock');
    await untilText(p, '#error', /could not be downloaded.*your data is safe/i);
    check(!(await p.$('#overview')), 'nothing opens without the vault module');
    blocked.delete('split_vault.wasm');
    await p.click('#unlock');
    await p.waitForSelector('html[data-view=overview]', { timeout: 30000 });
    // The views' module is still refused: opening one explains itself and offers a retry.
    await p.click('[data-view=graph]');
    await untilText(p, '#load-failed', /could not download Graph.*check the connection/i);
    check(/Your profile/.test(await p.textContent('#main')) === false, 'the failed view replaces the overview');
    await shot(p, 'load-failed');
    blocked.delete('split_views.wasm');
    await p.click('#load-retry');
    await p.waitForSelector('html[data-view=graph]', { timeout: 30000 });
    check(num(await p.getAttribute('canvas#graph', 'data-nodes')) > 100, 'the graph draws after the retry');
    await go(p, 'timeline');
    check(p.errors.length === 0, `page errors: ${p.errors}`);
    await other.close();
  });

  await test('graph: hundreds of nodes, search, evidence, local graph, zoom', async () => {
    await go(page, 'graph');
    const nodes = await until('the graph to draw', async () => num(await page.getAttribute('canvas#graph', 'data-nodes')), 10000);
    check(nodes > 100, `graph shows ${nodes} nodes`);
    await until('the layout to settle', async () => (await page.getAttribute('canvas#graph', 'data-settled')) === 'true', 20000);
    await page.fill('#graph-search', 'e');
    await page.waitForSelector('#graph-results button');
    await page.click('#graph-results li:first-child button');
    await page.waitForSelector('#node-details');
    const ev = (await page.$$('#evidence li')).length;
    check(ev > 0, 'the selected node lists its evidence');
    // Details first in the side panel, the answers before the figures, the raw figures folded.
    const order = await page.evaluate(() => {
      const side = document.querySelector('.graph-side');
      const at = (sel) => [...side.querySelectorAll('*')].indexOf(side.querySelector(sel));
      return { details: at('#node-details'), search: at('#graph-search'), evidence: at('#evidence'), figures: at('.figures') };
    });
    check(order.details >= 0 && order.details < order.search && order.evidence < order.figures, `the selection's details lead: ${JSON.stringify(order)}`);
    check(!(await page.isVisible('#node-details .figures')) && /sure/.test(await page.textContent('#node-details .sure')),
      'how sure in words; the raw figures behind Details');
    await page.check('#local-graph');
    const local = await until('the local graph', async () => { const n = num(await page.getAttribute('canvas#graph', 'data-nodes')); return n < nodes && n; });
    await page.fill('#depth', '3');
    const deeper = await until('a deeper local graph', async () => { const n = num(await page.getAttribute('canvas#graph', 'data-nodes')); return n >= local && n; });
    check(deeper >= local, `depth 3 (${deeper}) shows at least depth 1 (${local})`);
    await page.uncheck('#local-graph');
    // A dimension filter hides that dimension's nodes.
    await page.uncheck('[data-dim]:first-of-type >> nth=0');
    const filtered = await until('the filter', async () => { const n = num(await page.getAttribute('canvas#graph', 'data-nodes')); return n < nodes && n; });
    check(filtered < nodes, 'filtering by dimension hides nodes');
    await page.check('[data-dim] >> nth=0');
    await page.focus('canvas#graph');
    await page.keyboard.press('+');
    const box = await page.locator('canvas#graph').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await page.fill('#graph-search', '');
    await page.keyboard.press('Escape');
    await page.click('#graph-fit');
    await page.fill('#graph-search', 'Rust');
    await sleep(400);
    await shot(page, 'graph');
    await page.fill('#graph-search', '');
  });

  await test('graph history: the profile as of a past date is the graph of the answers by then', async () => {
    await go(page, 'graph');
    const total = async () => num((await page.textContent('#graph-count')).split(' of ')[1]);
    const now = await until('the node count', total);
    const days = [...new Set(live.map((r) => new Date(r.captured_at_ms).toISOString().slice(0, 10)))].sort();
    const early = days[Math.min(3, days.length - 1)];
    const by = live.filter((r) => new Date(r.captured_at_ms).toISOString().slice(0, 10) <= early).length;
    await page.fill('#graph-as-of', early);
    await untilText(page, '#graph-as-of-note', new RegExp(`end of ${early}: ${by} answers? by then`));
    const then = await until('fewer nodes then', async () => { const n = await total(); return n < now && n; });
    check(then > 0 && then < now, `${then} nodes as of ${early}, ${now} now`);
    await page.fill('#graph-search', 'e');
    await page.click('#graph-results li:first-child button');
    await page.waitForSelector('#node-details');
    const dates = await page.$$eval('#evidence li .muted', (els) => els.map((e) => e.textContent.slice(0, 10)));
    check(dates.every((d) => d <= early), `evidence as of ${early} is no later: ${dates}`);
    await page.screenshot({ path: join(out, 'webapp-graph-history.png') });
    await page.click('#graph-now');
    await until('the graph of now again', async () => (await total()) === now);
    await page.fill('#graph-search', '');
    await page.keyboard.press('Escape');
  });

  await test('timeline: answers per day and node strength over time, drawn in SVG', async () => {
    await go(page, 'timeline');
    check((await page.$$('#chart-per-day rect.bar')).length >= 60, 'a bar per day');
    await page.waitForSelector('#chart-strength path.line', { timeout: 20000 });
    check((await page.$$('#chart-strength path.line')).length >= 3, 'strength lines for the strongest nodes');
    await shot(page, 'timeline');
  });

  await test('data: search, edit an answer, delete one (the delete reaches the server)', async () => {
    await go(page, 'data');
    const rows = await page.$$('tr[data-record]');
    check(rows.length === 50, `a page of 50 rows, got ${rows.length}`);
    check(/of [0-9,]+ answers?$/.test(await page.textContent('#data-count')), 'a count');
    // Edit the first choice answer to another option.
    const editRow = page.locator('tr[data-record]:has(button.edit):has-text("")').first();
    const editId = await editRow.getAttribute('data-record');
    await editRow.locator('button.edit').click();
    const select = editRow.locator('select.edit-value');
    if (await select.count()) {
      const options = await select.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.selected]));
      const other = options.find(([, sel]) => !sel);
      if (other) await select.selectOption(other[0]);
    } else {
      const input = editRow.locator('input.edit-value');
      const type = await input.getAttribute('type');
      await input.fill(type === 'number' ? String(await input.getAttribute('min')) : 'edited in the web app');
    }
    await editRow.locator('button.save').click();
    await page.waitForSelector(`tr[data-record="${editId}"] button.edit`);
    // Delete the newest answer: two clicks (Delete, Confirm delete).
    deleted = await page.getAttribute('tr[data-record] >> nth=1', 'data-record');
    const row = page.locator(`tr[data-record="${deleted}"]`);
    await row.locator('button.delete').click();
    await row.locator('button.delete', { hasText: 'Confirm' }).click();
    await page.waitForSelector(`tr[data-record="${deleted}"]`, { state: 'detached' });
    // Focus goes to Undo (not to another answer's Delete); Undo brings the answer back.
    await until('focus on Undo', async () => (await page.evaluate(() => document.activeElement?.id)) === 'undo-delete', 3000);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`tr[data-record="${deleted}"]`);
    check(!(await page.isVisible('#undo')), 'the undo offer is gone once used');
    await row.locator('button.delete').click();
    await row.locator('button.delete', { hasText: 'Confirm' }).click();
    await page.waitForSelector(`tr[data-record="${deleted}"]`, { state: 'detached' });
    await page.fill('#data-search', deleted);
    await until('the search to find nothing', async () => /^0 of/.test(await page.textContent('#data-count')));
    await page.fill('#data-search', '');
    await until('the sync round', async () => /Synced/.test(await page.textContent('#sync-status')), 20000);
    await until('the server to lose the record', async () => {
      const after = exportJson(base, 'demo', DEMO_PASS).records;
      return !after.some((r) => r.id === deleted) && after.length === live.length - 1;
    }, 20000, 500);
    const edited = exportJson(base, 'demo', DEMO_PASS).records.find((r) => r.id === editId);
    const before = live.find((r) => r.id === editId);
    check(edited && JSON.stringify(edited.answer) !== JSON.stringify(before.answer), 'the edit reached the server');
    await page.fill('#data-search', 'claude');
    await until('search by agent', async () => (await page.$$('tr[data-record]')).length > 0);
    await page.fill('#data-search', '');
    await shot(page, 'data');
  });

  await test('export: every format downloads and checks out', async () => {
    await go(page, 'export');
    const count = exportJson(base, 'demo', DEMO_PASS).records.length;
    const files = {};
    for (const kind of ['backup', 'json', 'csv', 'markdown', 'graphml', 'jgf', 'instructions']) {
      files[kind] = await download(page, `[data-export=${kind}]`);
      await page.waitForSelector(`html[data-export=${kind}]`);
      check(files[kind].bytes.length > 100, `${kind}: ${files[kind].bytes.length} bytes`);
    }
    const backup = JSON.parse(files.backup.bytes);
    check(backup.format === 'selfos-backup' && backup.records.length >= count, `backup holds ${backup.records?.length} entries`);
    check(!files.backup.bytes.includes(Buffer.from('"prompt_id"')), 'the backup is encrypted');
    const json = JSON.parse(files.json.bytes);
    check(json.records.length === count, `JSON export: ${json.records.length} records, server ${count}`);
    const csv = files.csv.bytes.toString().trim().split('\r\n');
    check(csv[0].startsWith('id,') && csv.length === count + 1, `CSV: ${csv.length - 1} rows`);
    check(files.markdown.bytes.subarray(0, 2).toString() === 'PK', 'Markdown vault is a zip');
    const eocd = files.markdown.bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const notes = files.markdown.bytes.readUInt16LE(eocd + 10);
    check(notes > 50, `Markdown zip holds ${notes} notes`);
    const jgf = JSON.parse(files.jgf.bytes);
    const jgfNodes = Object.keys(jgf.graph.nodes).length;
    check(jgfNodes > 100 && jgf.graph.edges.length > 100, `JGF: ${jgfNodes} nodes, ${jgf.graph.edges.length} edges`);
    const graphml = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      if (doc.querySelector('parsererror')) return { error: doc.querySelector('parsererror').textContent };
      return { nodes: doc.getElementsByTagName('node').length, edges: doc.getElementsByTagName('edge').length };
    }, files.graphml.bytes.toString());
    check(!graphml.error && graphml.nodes === jgfNodes, `GraphML parses with ${graphml.nodes} nodes (${graphml.error || ''})`);
    // Instructions: every field within its limit (lengths in UTF-16 units, as browsers count).
    const text = files.instructions.bytes.toString();
    const fields = [...text.matchAll(/^## (.*) \((\d+)\/(\d+) characters\)\n\n([\s\S]*?)\n(?=\n## |\n# |$)/gm)];
    check(fields.length >= 4, `instructions have ${fields.length} fields`);
    for (const [, title, len, limit, body] of fields) {
      check(body.length <= Number(limit) && Number(len) <= Number(limit), `${title}: ${body.length} of ${limit}`);
    }
    check(/# ChatGPT/.test(text) && /# Claude/.test(text), 'instructions for ChatGPT and Claude');
    const chatgpt = await download(page, '[data-export-agent=chatgpt]');
    check(/ChatGPT/.test(chatgpt.bytes.toString()) && !/# Claude/.test(chatgpt.bytes.toString()), 'per-agent instructions');
    // The backup decrypts: import it back (everything is present already, nothing damaged).
    const backupPath = join(tmp, files.backup.name);
    writeFileSync(backupPath, files.backup.bytes);
    await page.setInputFiles('#import-file', backupPath);
    await page.fill('#import-passphrase', DEMO_PASS);
    await page.click('#import');
    await untilText(page, '#import-result', /Imported 0 answers/, 30000);
    const res = await page.textContent('#import-result');
    check(new RegExp(`\\(${count} already here\\)`).test(res), `import says: ${res}`);
    await page.fill('#import-passphrase', 'wrong passphrase here');
    await page.click('#import');
    await untilText(page, '#import-result', /Wrong passphrase/, 30000);
    await shot(page, 'export');
    // After an instructions export, the overview measures staleness from it.
    await go(page, 'overview');
    check(/since your last export/.test(await page.textContent('#changes')), 'changes since the export');
    const card = await page.textContent('#alignment .agent[data-agent=chatgpt]');
    check(/\d+ deliver(y|ies) · last downloaded as instructions just now/.test(card), `ChatGPT's card knows the download: ${card}`);
    const aligned = await alignmentOf(page);
    check(aligned.chatgpt >= 90, `a full download makes ChatGPT's alignment ${aligned.chatgpt}% (>= 90%)`);
  });

  await test('copy for an agent: the instructions are on the clipboard and the delivery counts', async () => {
    await go(page, 'overview');
    const before = (await alignmentOf(page)).claude;
    await page.click('#alignment [data-deliver=claude]');
    await untilText(page, '#alignment .agent[data-agent=claude] .delivery', /2 deliveries · last copied just now/, 15000);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    check(/# Claude: custom instructions/.test(copied), `the clipboard holds Claude's instructions: ${copied.slice(0, 80)}`);
    // Instructions carry what fits their fields (part of the profile may be left out): a fresh
    // copy gives Claude at least what the download gave it.
    const after = (await alignmentOf(page)).claude;
    check(after > 0 && after >= before, `Claude's alignment after the copy: ${before}% -> ${after}%`);
    await page.locator('#alignment .agent[data-agent=claude]').screenshot({ path: join(out, 'webapp-alignment-card.png') });
  });

  await test("settings fields: one field copied within its limit, and the agent's settings link", async () => {
    await go(page, 'export');
    const card = '#export .instr[data-agent=chatgpt]';
    await page.waitForSelector(`${card} .field .copy-field`);
    const fields = page.locator(`${card} .field`);
    check((await fields.count()) === 2, "ChatGPT shows its two settings fields");
    const field = fields.nth(1);
    check((await field.getAttribute('data-field')) === 'How would you like ChatGPT to respond?', 'the second field is how to respond');
    await field.locator('.copy-field').click();
    await untilText(page, `${card} .copy-status`, /Copied [\d,]+ characters/, 15000);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const shown = await field.locator('pre').textContent();
    check(copied.length > 0 && copied === shown, `the clipboard holds exactly that field's text (${copied.length} characters)`);
    const [, limit] = (await field.locator('.field-head span.small').textContent()).match(/\/ ([\d,]+) characters/) || [];
    check(Number(limit.replace(/\D/g, '')) === 1500 && copied.length <= 1500, `within the field's limit: ${copied.length} of ${limit}`);
    check(!/^#|Paste into/m.test(copied), 'no headings or notes: only what goes into the field');
    const link = page.locator(`${card} [data-settings-link=chatgpt]`);
    check((await link.getAttribute('href')) === 'https://chatgpt.com/#settings/Personalization', 'link opens ChatGPT personalization');
    check((await link.getAttribute('target')) === '_blank' && /noopener/.test(await link.getAttribute('rel')), 'in a new tab, without opener');
    check(/Open ChatGPT settings/.test(await link.textContent()), 'the link says where it goes');
    // The copy is a delivery of that field: ChatGPT's card says so.
    await go(page, 'overview');
    await untilText(page, '#alignment .agent[data-agent=chatgpt] .delivery', /last copied just now/, 15000);
  });

  await test('settings: devices, passphrase change here and on the server', async () => {
    await go(page, 'settings');
    await page.waitForSelector('#devices li');
    const devices = await page.$$eval('#devices li', (els) => els.map((e) => e.textContent));
    check(devices.length >= 2 && devices.some((d) => /this browser/.test(d)), `devices: ${devices}`);
    check(num(await page.inputValue('#kdf-iterations')) >= 600000, 'KDF cost shown');
    const before = (await page.$$('#devices li button.revoke')).length;
    check(before >= 1, 'other sessions can be revoked');
    await page.click('#devices li button.revoke >> nth=0');
    await until('one session fewer', async () => (await page.$$('#devices li button.revoke')).length === before - 1);
    await page.fill('#current-passphrase', 'wrong current passphrase');
    await page.fill('#new-passphrase', NEW_PASS);
    await page.fill('#confirm-passphrase', NEW_PASS);
    await page.click('#change-passphrase');
    await untilText(page, '#passphrase-result', /Wrong passphrase/);
    await page.fill('#current-passphrase', DEMO_PASS);
    await page.fill('#kdf-iterations', '700000');
    await page.click('#change-passphrase');
    await untilText(page, '#passphrase-result', /Passphrase changed/, 30000);
    exportJson(base, 'demo', NEW_PASS); // the server takes the new one...
    let refused = false;
    try { exportJson(base, 'demo', DEMO_PASS); } catch { refused = true; }
    check(refused, '...and refuses the old one');
    // A passphrase change ends every other session: only this browser is left.
    check(/other devices were signed out/.test(await page.textContent('#passphrase-result')), 'the change says other devices were signed out');
    await go(page, 'overview');
    await go(page, 'settings');
    await page.waitForSelector('#devices li');
    const left = await page.$$eval('#devices li', (els) => els.map((e) => e.textContent));
    check(left.length === 1 && /this browser/.test(left[0]), `only this browser is signed in: ${left}`);
    await shot(page, 'settings');
  });

  await test('a second browser signs in fresh and does not see the deleted answer', async () => {
    const other = await newContext(base);
    const p2 = await openApp(other, base, '/data');
    await signIn(p2, 'demo', NEW_PASS);
    await page.waitForTimeout(0);
    await until('the data view', async () => (await p2.$$('tr[data-record]')).length === 50);
    check(!(await p2.$(`tr[data-record="${deleted}"]`)), 'the deleted answer is gone');
    await p2.fill('#data-search', deleted);
    await until('the search to find nothing', async () => /^0 of/.test(await p2.textContent('#data-count')));
    // The deliveries made in the first browser synced: the overview here counts them.
    await go(p2, 'overview');
    const card = await p2.textContent('#alignment .agent[data-agent=claude] .delivery');
    check(/2 deliveries · last copied/.test(card), `deliveries reached the second browser: ${card}`);
    check((await alignmentOf(p2)).chatgpt > 0, 'alignment on the second browser counts the synced deliveries');
    check(p2.errors.length === 0, `page errors: ${p2.errors}`);
    await other.close();
  });

  await test('phone size, dark scheme: the overview reads well', async () => {
    const phone = await newContext(base, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, colorScheme: 'dark', isMobile: true, hasTouch: true });
    const p3 = await openApp(phone, base);
    await signIn(p3, 'demo', NEW_PASS);
    const overflow = await p3.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, `no sideways scrolling (${overflow}px too wide)`);
    await shot(p3, 'overview-phone-dark', false);
    // Every view's name is in sight (none scrolled out of the nav).
    const navOut = await p3.$$eval('.top nav a', (as) => as.filter((a) => { const r = a.getBoundingClientRect(); return r.right > innerWidth || r.left < 0 || r.width === 0; }).map((a) => a.textContent));
    check(navOut.length === 0, `nav items out of sight at phone width: ${navOut}`);
    // The chart's axis text is readable: at least 9 CSS pixels tall.
    const tick = await p3.$eval('#chart-answers .tick', (t) => t.getBoundingClientRect().height);
    check(tick >= 9, `chart labels ${tick.toFixed(1)} px tall`);
    // Data: each answer's Edit and Delete on screen, no sideways scrolling.
    await go(p3, 'data');
    await p3.waitForSelector('tr[data-record] button.delete');
    const off = await p3.$$eval('tr[data-record] button.delete', (bs) => bs.slice(0, 5).filter((b) => b.getBoundingClientRect().right > innerWidth).length);
    check(off === 0, `${off} Delete buttons off screen`);
    check(await p3.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1), 'no sideways scrolling in Data');
    await p3.screenshot({ path: join(out, 'webapp-data-phone-dark.png') });
    await go(p3, 'graph');
    await until('the graph', async () => num(await p3.getAttribute('canvas#graph', 'data-nodes')) > 100);
    await sleep(1500);
    await p3.screenshot({ path: join(out, 'webapp-graph-phone-dark.png') });
    await phone.close();
  });

  await test('sync conflict: two browsers change one answer; both shown side by side, the choice syncs', async () => {
    const scale = exportJson(base, 'demo', NEW_PASS).records.find((r) => r.answer.kind === 'scale' && r.answer.max - r.answer.min >= 2);
    check(scale, 'the demo account has a scale answer');
    // Two values other than the current one, different from each other.
    const { min, max, value } = scale.answer;
    const choices = Array.from({ length: max - min + 1 }, (_, i) => min + i).filter((v) => v !== value);
    const [theirs, mine] = [choices[0], choices[choices.length - 1]];
    const other = await newContext(base);
    const p2 = await openApp(other, base, '/data');
    await signIn(p2, 'demo', NEW_PASS);
    await go(page, 'data');
    /** Edits the scale answer in the data table to `to`. */
    const editScale = async (p, to) => {
      await p.fill('#data-search', scale.id);
      const row = p.locator(`tr[data-record="${scale.id}"]`);
      await row.locator('button.edit').click();
      await row.locator('input.edit-value').fill(String(to));
      await row.locator('button.save').click();
      await p.waitForSelector(`tr[data-record="${scale.id}"] button.edit`);
    };
    // The second browser is offline when it edits; the first edits later and syncs at once.
    await other.setOffline(true);
    await editScale(p2, theirs);
    await untilText(p2, '#sync-status', /· 1 waiting/);
    await sleep(50);
    await editScale(page, mine);
    await until('the first edit on the server', async () => {
      const r = exportJson(base, 'demo', NEW_PASS).records.find((x) => x.id === scale.id);
      return r && r.answer.value === mine;
    }, 20000, 500);
    // Back online: the newer change (the first browser's) wins; the other is kept for a choice.
    await other.setOffline(false);
    await p2.click('#sync-status');
    await p2.waitForSelector(`#conflicts .conflict[data-conflict]`, { timeout: 20000 });
    const conflict = p2.locator('#conflicts .conflict').first();
    const text = await conflict.textContent();
    check(/Kept \(newer\)/.test(text) && /Other version/.test(text), `both sides shown: ${text}`);
    await p2.screenshot({ path: join(out, 'webapp-conflict.png'), fullPage: true });
    await conflict.locator('button', { hasText: 'Keep other' }).click();
    await p2.waitForSelector('#conflicts', { state: 'detached', timeout: 20000 });
    await until('the kept version on the server', async () => {
      const r = exportJson(base, 'demo', NEW_PASS).records.find((x) => x.id === scale.id);
      return r && r.answer.value === theirs;
    }, 20000, 500);
    check(p2.errors.length === 0, `page errors: ${p2.errors}`);
    await other.close();
    await page.fill('#data-search', '');
  });

  await test('what SelfOS knows: sentences with how sure; Change opens the answer behind one; Forget removes it everywhere', async () => {
    const made = cli(['demo', '--server', base, '--user', 'facts', '--answers', '40']);
    check(/40 answers pushed/.test(made), made);
    const c = await newContext(base);
    const p = await openApp(c, base);
    await signIn(p, 'facts', DEMO_PASS);
    await p.waitForSelector('#known-facts li');
    const facts = await p.$$eval('#known-facts li', (l) => l.map((e) => ({ node: e.dataset.node, sentence: e.querySelector('.sentence').textContent.trim() })));
    check(facts.length >= 3, `at least three facts after 40 answers: ${JSON.stringify(facts)}`);
    // Change: the Data view opens on the newest answer behind the fact.
    await p.locator(`#known-facts li[data-node="${facts[0].node}"] [data-change]`).click();
    await p.waitForSelector('html[data-view=data]');
    const q = await p.inputValue('#data-search');
    check(/^[0-9a-f]{32}$/.test(q), `the search holds that answer's id: ${q}`);
    await until('that one answer listed', async () => (await p.$$('tr[data-record]')).length === 1);
    check(await p.getAttribute('tr[data-record]', 'data-record') === q, 'the row is the answer behind the fact');
    // Forget: two clicks; its answers go, here and on the server.
    await go(p, 'overview');
    const before = exportJson(base, 'facts', DEMO_PASS).records.length;
    const item = p.locator(`#known-facts li[data-node="${facts[0].node}"]`);
    await item.locator('[data-forget]').click();
    await item.locator('[data-forget]', { hasText: 'Confirm' }).click();
    await until('the fact to leave the list', async () => (await p.$$(`#known-facts li[data-node="${facts[0].node}"]`)).length === 0, 10000);
    check((await p.textContent('#note')).includes(facts[0].sentence), 'the note says what was forgotten');
    await until('the server to lose its answers', async () => exportJson(base, 'facts', DEMO_PASS).records.length < before, 20000, 500);
    check(p.errors.length === 0, `page errors: ${p.errors}`);
    await c.close();
  });

  await test('key rotation: every answer sealed again; a browser signed in before signs in again and keeps everything', async () => {
    const before = exportJson(base, 'demo', NEW_PASS).records.length;
    const other = await newContext(base);
    const p2 = await openApp(other, base);
    await signIn(p2, 'demo', NEW_PASS);
    await go(page, 'settings');
    await page.fill('#rotate-passphrase', 'wrong current passphrase');
    await page.click('#rotate-key-button');
    await untilText(page, '#rotate-result', /Wrong passphrase/);
    await page.fill('#rotate-passphrase', NEW_PASS);
    await page.click('#rotate-key-button');
    await untilText(page, '#rotate-result', /Vault key rotated/, 90000);
    const said = await page.textContent('#rotate-result');
    console.log(`  ${said}`);
    const [, resealed] = said.match(/: ([\d,]+) entries sealed again/) || [];
    check(num(resealed) >= before, `every entry re-sealed (${resealed}, ${before} live answers): ${said}`);
    check(/sent to the server/.test(said) && /other devices were signed out/.test(said), `says where it went and who was signed out: ${said}`);
    // Every other session ended, and the device list says so at once.
    await until('only this browser in the device list', async () => {
      const left = await page.$$eval('#devices li', (els) => els.map((e) => e.textContent));
      return left.length === 1 && /this browser/.test(left[0]);
    }, 10000);
    check(!(await page.isVisible('#sign-in-again')), 'no "Sign in again" where the sync is fine');
    await shot(page, 'settings-rotated');
    // The server's copy opens with the same passphrase under the new key, answer for answer.
    check(exportJson(base, 'demo', NEW_PASS).records.length === before, 'the server holds every answer, readable');
    // The browser signed in before no longer gets in with its kept secret: it asks for the
    // passphrase, takes the new header and syncs again.
    await go(p2, 'settings');
    await p2.click('#sync-now');
    await p2.waitForSelector('#sign-in-again:not([hidden])', { timeout: 30000 });
    check(/rotated, on another device/.test(await p2.textContent('#settings .panel .error')), 'the error says why');
    await p2.fill('#sign-in-again-passphrase', NEW_PASS);
    await p2.click('#sign-in-again-button');
    await p2.waitForSelector('#sign-in-again', { state: 'hidden', timeout: 30000 });
    await until('a clean sync', async () => (await p2.$eval('#settings .panel .error', (e) => e.hidden)), 30000);
    await p2.waitForSelector('#devices li', { timeout: 10000 });
    check(!(await p2.isVisible('#devices .error')), 'the device list is read again after signing in');
    await shot(p2, 'settings-signed-in-again');
    await go(p2, 'data');
    await untilText(p2, '#data-count', new RegExp(`of ${before.toLocaleString('en-US')} answer`), 30000);
    check(p2.errors.length === 0, `page errors: ${p2.errors}`);
    await other.close();
  });

  await test('delete everything: a wrong passphrase deletes nothing; the right one removes the account', async () => {
    const made = cli(['demo', '--server', base, '--user', 'leaving', '--answers', '40']);
    check(/40 answers pushed/.test(made), made);
    const gone = await newContext(base);
    const p = await openApp(gone, base, '/settings');
    await signIn(p, 'leaving', DEMO_PASS);
    await p.waitForSelector('#delete-account');
    await p.fill('#delete-passphrase', 'not the passphrase');
    await p.click('#delete-account');
    await untilText(p, '#delete .error', /passphrase/i);
    check(exportJson(base, 'leaving', DEMO_PASS).records.length === 40, 'nothing was deleted');
    await p.fill('#delete-passphrase', DEMO_PASS);
    await p.click('#delete-account');
    await p.waitForSelector('#main', { state: 'detached', timeout: 20000 });
    await p.waitForSelector('#username', { timeout: 20000 });
    // The app reopens its (now empty) database to look for a vault: nothing may be in it.
    const left = await p.evaluate(async () => {
      const db = await new Promise((ok, err) => { const r = indexedDB.open('selfos-webapp'); r.onsuccess = () => ok(r.result); r.onerror = () => err(r.error); });
      let n = 0;
      for (const name of db.objectStoreNames) {
        n += await new Promise((ok) => { const r = db.transaction(name).objectStore(name).count(); r.onsuccess = () => ok(r.result); });
      }
      db.close();
      return n;
    });
    check(left === 0, `this browser's copy is gone (${left} entries left)`);
    let refused = '';
    try { exportJson(base, 'leaving', DEMO_PASS); } catch (e) { refused = String(e.stderr || e.message); }
    check(refused.length > 0, 'the server no longer has the account');
    // The other account on the same server is untouched.
    check(exportJson(base, 'demo', NEW_PASS).records.length > 100, 'the demo account is untouched');
    await gone.close();
  });

  await test('offline: with the server gone, the local vault still unlocks and shows data', async () => {
    await page.click('#lock');
    await page.waitForSelector('#unlock-form');
    await server.stop();
    await page.reload(); // the offline cache (service worker) serves the app
    await page.waitForSelector('html[data-ready=unlock]', { timeout: 20000 });
    check(/Unlock/.test(await page.textContent('#unlock')), 'offers to unlock the local vault');
    await page.fill('#passphrase', 'wrong');
    await page.click('#unlock');
    await untilText(page, '#error', /Wrong passphrase/);
    await page.fill('#passphrase', NEW_PASS);
    await page.click('#unlock');
    await page.waitForSelector('#main', { timeout: 20000 });
    await go(page, 'overview');
    check(num(await page.textContent('#stat-answers .value')) > 100, 'data shows offline');
    await untilText(page, '#sync-status', /Offline/);
    await untilText(page, '#sync-error', /cannot reach the server.*data stays here/);
    await shot(page, 'offline');
    // The views' modules were fetched in the background online; the offline cache has them.
    await go(page, 'graph');
    await until('the graph offline', async () => num(await page.getAttribute('canvas#graph', 'data-nodes')) > 100, 10000);
    await go(page, 'data');
    check(page.errors.length === 0, `page errors: ${page.errors}`);
  });

  await ctx.close();
}

// ---- benchmarks -----------------------------------------------------------------------------
async function benchmarks() {
  const server = await startServer(join(tmp, 'bench'));
  const { base } = server;
  const made = cli(['demo', '--server', base, '--user', 'bench', '--answers', '10000']);
  check(/10000 answers pushed/.test(made), made);
  // Bytes on the wire (gzipped as served, with headers) of the app's own files, from the
  // browser's resource timing, in three steps of a first visit: until the sign-in form is
  // interactive and the network is idle (what the first visit downloads before the person does
  // anything), until the overview shows after signing in (the vault's module joins), and once
  // the other views' modules have come in the background. The API's answers are data, not the
  // app, and are left out. Service workers are blocked here, so every fetch is the page's own.
  const ctx = await newContext(base, { serviceWorkers: 'block' });
  const page = await ctx.newPage();
  const appBytes = (before = Infinity) => page.evaluate((before) => performance.getEntriesByType('navigation')
    .concat(performance.getEntriesByType('resource'))
    .filter((e) => !new URL(e.name).pathname.startsWith('/api/') && e.startTime < before)
    .reduce((sum, e) => sum + e.transferSize, 0), before);
  await page.goto(base + '/');
  await page.waitForSelector('html[data-ready=unlock]', { timeout: 20000 });
  await page.waitForLoadState('networkidle');
  const firstVisit = await appBytes();
  const t0 = Date.now();
  await signIn(page, 'bench', DEMO_PASS);
  await page.waitForSelector('html[data-view=overview]', { timeout: 60000 });
  const firstSignIn = Date.now() - t0;
  const toOverview = await appBytes(Number(await page.getAttribute('html', 'data-view-at')));
  await page.waitForSelector('html[data-sync]', { timeout: 60000 }).catch(() => {});
  // The views' modules come one after another once the browser is idle.
  await until('the views module', async () => (await page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => /split_views/.test(e.name)).length)) > 0, 30000, 100);
  await page.waitForLoadState('networkidle');
  const everything = await appBytes();
  // Returning visits: the vault is in this browser; navigation -> unlock -> overview.
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const p = await ctx.newPage();
    await p.goto(base + '/');
    await p.waitForSelector('#passphrase');
    await p.fill('#passphrase', DEMO_PASS);
    await p.click('#unlock');
    await p.waitForSelector('html[data-view=overview]', { timeout: 30000 });
    runs.push(Number(await p.getAttribute('html', 'data-view-at')));
    const at = async (k) => Number(await p.getAttribute('html', `data-${k}-at`));
    runs.phases = { form: await at('ready'), unlocked: await at('unlocked'), built: await at('built') };
    if (i === 2) {
      await go(p, 'graph');
      await until('the layout to settle', async () => (await p.getAttribute('canvas#graph', 'data-settled')) === 'true', 60000);
      await sleep(600);
      runs.graphNodes = num(await p.getAttribute('canvas#graph', 'data-nodes'));
      runs.frameMax = num(await p.getAttribute('canvas#graph', 'data-frame-max-ms'));
      // The layout at 2,000 nodes, in this browser: ms per tick (a frame runs ticks for 7 ms).
      runs.tick2000 = await p.evaluate(async () => (await import('/pkg/selfos_webapp.js')).layout_tick_ms(2000));
      // Drawing 2,000 nodes (rasterized), still and as while moving, and the slowest kind of
      // frame (that moving drawing plus the layout's budget it leaves).
      runs.drawStill2000 = await p.evaluate(async (w) => (await import(w)).graph_draw_ms(2000, false), '/pkg/selfos_webapp.js');
      runs.draw2000 = await p.evaluate(async (w) => (await import(w)).graph_draw_ms(2000, true), '/pkg/selfos_webapp.js');
      runs.frame2000 = await p.evaluate(async ([w, d]) => (await import(w)).graph_frame_ms(d), ['/pkg/selfos_webapp.js', runs.draw2000]);
      // The real animation loop for 4 s on a fresh 2,000-node layout: intervals between frames.
      runs.gaps2000 = await p.evaluate(async (w) => Array.from(await (await import(w)).graph_animation_gaps(2000, 4000)), '/pkg/selfos_webapp.js');
    }
    await p.close();
  }
  runs.sort((a, b) => a - b);
  const figures = {
    webapp_first_visit_kb_gz: Math.round(firstVisit / 1024 * 10) / 10,
    webapp_first_sign_in_kb_gz: Math.round(toOverview / 1024 * 10) / 10,
    webapp_all_modules_kb_gz: Math.round(everything / 1024 * 10) / 10,
    webapp_interactive_ms: runs[1],
    webapp_first_sign_in_ms_10k: firstSignIn,
    webapp_graph_nodes_10k: runs.graphNodes,
    webapp_graph_frame_max_ms: runs.frameMax,
    webapp_layout_tick_ms_2000_nodes: Math.round(runs.tick2000 * 100) / 100,
    webapp_graph_draw_ms_2000_nodes: Math.round(runs.draw2000 * 100) / 100,
    webapp_graph_draw_still_ms_2000_nodes: Math.round(runs.drawStill2000 * 100) / 100,
    webapp_graph_frame_ms_2000_nodes: Math.round(runs.frame2000 * 100) / 100,
    webapp_graph_frames_2000_nodes: runs.gaps2000.length,
    webapp_graph_frame_gap_p50_ms_2000_nodes: Math.round(runs.gaps2000[Math.floor(runs.gaps2000.length * 0.5)] * 10) / 10,
    webapp_graph_frame_gap_p95_ms_2000_nodes: Math.round(runs.gaps2000[Math.floor(runs.gaps2000.length * 0.95)] * 10) / 10,
    // A frame that took more than 1.5 frame periods at 60 Hz: the animation stuttered.
    webapp_graph_dropped_frames_pct_2000_nodes: Math.round(runs.gaps2000.filter((g) => g > 25).length / Math.max(1, runs.gaps2000.length) * 1000) / 10,
    webapp_unlock_form_ms: runs.phases.form,
    webapp_unlock_decrypt_done_ms: runs.phases.unlocked,
    webapp_profile_built_ms: runs.phases.built,
  };
  console.log('BENCH_JSON ' + JSON.stringify(figures));
  await ctx.close();
  await server.stop();
}

try {
  if (bench) await benchmarks(); else await endToEnd();
} catch (e) {
  fail('setup', e);
}
await browser.close();
if (foreign.length) fail('no foreign requests', new Error(`the browser tried to reach ${foreign.length} outside URLs: ${foreign.slice(0, 5).join(', ')}`));
rmSync(tmp, { recursive: true, force: true });
process.exit(summary(`web app ${bench ? 'benchmarks' : 'end to end'}`));
