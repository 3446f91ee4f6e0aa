// The web app's Proposals view in headless Chromium, as the user sees what an MCP client
// proposed (tests/mcp/client_test.py drives both): sign in to the web app that the test's
// `selfos serve` serves, check the nav badge and the pending proposals, accept one with the
// user's edit and reject another, and wait until the decisions have synced.
//
//   node tests/mcp/proposals_browser.mjs <base url> <user> <passphrase file> <plan.json>
// plan.json: {"agent_name": "Claude", "accept": {"statement", "reason", "edited"},
//             "reject": {"statement"}}
// Prints one `ok`/`FAIL` line per check and a final JSON line `{"passed":n,"failed":n}`;
// exits non-zero on a failure. Environment as tests/webapp/e2e.mjs (SELFOS_NODE_MODULES,
// SELFOS_WEBAPP is the server's business, SELFOS_CHROMIUM, SELFOS_E2E_OUT).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROME_ARGS, chromium, chromiumPath, out, until, untilText } from '../harness.mjs';
import { go, openApp, signIn } from '../webapp/driver.mjs';

const [base, user, passFile, planFile] = process.argv.slice(2);
const pass = readFileSync(passFile, 'utf8').replace(/\r?\n$/, '');
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} browser: ${name}${ok || !detail ? '' : `: ${detail}`}`);
  if (ok) passed += 1; else failed += 1;
  return ok;
};

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROME_ARGS });
try {
  // A phone's width: the view must work there too.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await ctx.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  const page = await openApp(ctx, base);
  await signIn(page, user, pass);
  // No sync round in flight (a first sign-in has just pulled; a returning one syncs now).
  await until('no sync round in flight', async () => !/Syncing/.test(await page.textContent('#sync-status')), 60000);
  const badge = Number((await page.textContent('#proposals-count')) || '0');
  check('the nav badge counts the pending proposals', badge >= 2 && await page.isVisible('#proposals-count'), `badge ${badge}`);

  await go(page, 'proposals');
  const item = (statement) => page.locator('#proposals-pending [data-proposal]', { hasText: statement });
  const acc = item(plan.accept.statement);
  const rej = item(plan.reject.statement);
  check('each proposal shows up once, pending', await acc.count() === 1 && await rej.count() === 1);
  const accText = await acc.textContent();
  check('a proposal shows the agent\'s name, the statement and its reason',
    accText.includes(plan.agent_name) && accText.includes(plan.accept.statement) && accText.includes(plan.accept.reason), accText);
  check('no horizontal scrolling at phone width',
    await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await page.screenshot({ path: join(out, 'mcp-proposals-pending.png'), fullPage: true });

  // Edit, then accept the user's words (by id from here: the statement gives way to the field).
  const accepting = page.locator(`#proposals-pending [data-proposal="${await acc.getAttribute('data-proposal')}"]`);
  await accepting.locator('[data-edit]').click();
  await accepting.locator('textarea[data-edit-text]').fill(plan.accept.edited);
  const syncedAt = await page.getAttribute('html', 'data-sync-at');
  await accepting.locator('[data-accept]').click();
  await until('the accepted proposal to move to the history',
    async () => await page.locator('#proposals-history [data-status=accepted]', { hasText: plan.accept.statement }).count() === 1, 15000);
  const history = await page.locator('#proposals-history [data-status=accepted]', { hasText: plan.accept.statement }).textContent();
  check('accepting moves it to the decided list, as accepted, with the words it was added in',
    history.includes(plan.accept.edited), history);
  await rej.locator('[data-reject]').click();
  await until('the rejected proposal to move to the history',
    async () => await page.locator('#proposals-history [data-status=rejected]', { hasText: plan.reject.statement }).count() === 1, 15000);
  check('rejecting moves it to the decided list, as rejected', true);
  await untilText(page, '#proposals-count', new RegExp(`^${badge - 2}$|^$`), 5000)
    .then(() => check('the badge counts two fewer', true))
    .catch((e) => check('the badge counts two fewer', false, e.message));
  // Both decisions pushed: a sync round finished after them with nothing left waiting.
  await until('the decisions to sync', async () => {
    const [state, at] = [await page.getAttribute('html', 'data-sync'), await page.getAttribute('html', 'data-sync-at')];
    return state === 'ok' && at !== syncedAt && !/waiting/.test(await page.textContent('#sync-status'));
  }, 30000)
    .then(() => check('the decisions synced', true))
    .catch((e) => check('the decisions synced', false, e.message));
  await page.screenshot({ path: join(out, 'mcp-proposals-decided.png'), fullPage: true });
  // Dark scheme: the view reads in it too (text and background differ).
  await page.emulateMedia({ colorScheme: 'dark' });
  const [fg, bg] = await page.evaluate(() => {
    const s = getComputedStyle(document.querySelector('#proposals'));
    return [s.color, getComputedStyle(document.body).backgroundColor];
  });
  check('dark scheme: light text on a dark background', fg !== bg && /rgb\((1\d|2\d|\d),/.test(bg), `${fg} on ${bg}`);
  check('no page errors', page.errors.length === 0, page.errors.join('; '));
} catch (e) {
  check('the browser steps ran', false, e.stack || String(e));
} finally {
  await browser.close();
}
console.log(JSON.stringify({ passed, failed }));
process.exit(failed ? 1 : 0);
