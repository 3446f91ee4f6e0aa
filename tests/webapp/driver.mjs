// Drives the web app as a user would: open it, sign in or unlock, move between views.
// Used by tests/webapp/e2e.mjs and tests/product/e2e.mjs; the ids are listed in webapp/README.md.
import { join } from 'node:path';
import { root } from '../harness.mjs';

/** The assembled web app that `selfos serve` serves (SELFOS_WEBAPP, default dist/webapp). */
export const webapp = process.env.SELFOS_WEBAPP || join(root, 'dist/webapp');

/** Opens the app at `base + path` and waits for the unlock form; page errors are collected. */
export async function openApp(ctx, base, path = '/') {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  if (process.env.SELFOS_E2E_DEBUG) page.on('console', (m) => console.log(`  [page] ${m.type()}: ${m.text()}`));
  page.errors = errors;
  await page.goto(base + path);
  await page.waitForSelector('html[data-ready=unlock]', { timeout: 20000 });
  return page;
}

/** Signs in (first visit; `user` null unlocks a returning one); throws the app's own error text when it refuses. */
export async function signIn(page, user, pass) {
  if (user !== null) await page.fill('#username', user);
  await page.fill('#passphrase', pass);
  await page.click('#unlock');
  await Promise.race([
    page.waitForSelector('#main', { timeout: 60000 }),
    page.waitForSelector('#error:not([hidden])', { timeout: 60000 }).then(async () => {
      throw new Error(`sign-in failed: ${await page.textContent('#error')}`);
    }),
  ]);
}

/** Follows the nav link to `view` and waits for it to render. */
export async function go(page, view) {
  await page.click(`[data-view=${view}]`);
  await page.waitForSelector(`html[data-view=${view}]`);
}
