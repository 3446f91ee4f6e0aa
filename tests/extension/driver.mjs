// Drives the unpacked extension in headless Chromium as a user would: the AI sites' host
// names resolve to a local HTTPS fixture server (a throwaway certificate) that imitates each
// site's markup and its generate / finish / fail sequence; the popup talks to the background.
// Used by tests/extension/e2e.mjs and tests/product/e2e.mjs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROME_ARGS, check, chromium, chromiumPath, root, sleep, until } from '../harness.mjs';
import { serveFixtures } from './fixtures/server.mjs';

export const SITES = ['chatgpt.com', 'claude.ai', 'gemini.google.com', 'www.perplexity.ai',
  'copilot.microsoft.com', 'chat.mistral.ai', 'chat.deepseek.com', 'poe.com'];
export const UNSUPPORTED = 'chat.example.org';

/** Loads the extension (default dist/chrome) into a fresh profile and opens its popup. */
export async function launchExtension({ extension = process.env.SELFOS_EXTENSION || join(root, 'dist/chrome') } = {}) {
  const tmp = mkdtempSync(join(tmpdir(), 'selfos-ext-'));
  const fixtures = await serveFixtures(tmp);
  const port = fixtures.address().port;
  const hosts = [...SITES, 'chat.openai.com', 'perplexity.ai', UNSUPPORTED];
  const ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      `--disable-extensions-except=${extension}`, `--load-extension=${extension}`,
      `--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1:${port}`).join(', ')}`,
      '--ignore-certificate-errors', ...CHROME_ARGS,
    ],
  });
  const worker = ctx.serviceWorkers()[0] || await ctx.waitForEvent('serviceworker', { timeout: 20000 });
  const extId = new URL(worker.url()).host;
  const origin = `chrome-extension://${extId}`;
  const popup = await ctx.newPage();
  await popup.goto(`${origin}/popup.html`);

  /** A request to the background from an extension page, as the popup sends it. */
  const send = (msg) => popup.evaluate((m) => chrome.runtime.sendMessage(m), msg);
  const status = async () => { const r = await send({ type: 'status' }); check(r.ok, JSON.stringify(r)); return r.data; };

  const cardFrame = (page) => page.frames().find((f) => f.url().includes('/card.html'));
  const frameState = (page) => cardFrame(page)?.evaluate(() => document.documentElement.dataset.state);
  const overlayVisible = (page) => page.evaluate(() => {
    const h = document.querySelector('selfos-overlay');
    return !!h && getComputedStyle(h).visibility === 'visible' && h.getBoundingClientRect().height > 0;
  });

  /** Opens a fixture site and waits until its card frame is sensing with a card ready. */
  async function openSite(host, path = '/', want = 'ready') {
    const page = await ctx.newPage();
    if (process.env.SELFOS_E2E_DEBUG) page.on('console', (m) => console.log(`  [${host}] ${m.type()}: ${m.text()}`));
    await page.goto(`https://${host}${path}`);
    await until(`the card frame on ${host}${path}`, async () => cardFrame(page));
    await until(`frame state ${want} on ${host}`, async () => (await frameState(page)) === want, 8000);
    await sleep(900); // The detector ignores the first 800 ms after load (initial renders flash controls).
    return page;
  }

  // Generations in the tests last at least 3 s: the scheduler learns each site's typical wait
  // and offers no card when less than 2 s are expected (a card nobody has time to answer).
  const generate = (page, opts) => page.evaluate((o) => { window.fixture.generate(o); }, opts);
  const running = (page) => page.evaluate(() => window.fixture.state.running);
  const latency = (page) => page.evaluate(() => {
    const s = window.fixture.state;
    return s.shownAt.length ? s.shownAt[s.shownAt.length - 1] - s.stopAt : null;
  });

  /** Waits for the frame to hold its next card; on timeout, says why the scheduler has none. */
  async function nextCard(page) {
    await page.bringToFront(); // The user looks at the tab (background tabs' timers are throttled).
    try {
      // A generation still streaming must end first, for the fixture and for the detector
      // (its stop-gone debounce).
      await until('the last generation to end', async () => !(await running(page)), 8000);
      await until('the next card', async () => (await frameState(page)) === 'ready', 5000);
      await until('the detector to be idle', async () => (await cardFrame(page).evaluate(() => document.documentElement.dataset.wait)) !== 'waiting', 3000);
    } catch (e) {
      const site = await send({ type: 'site', origin: new URL(page.url()).origin });
      const why = await send({ type: 'next_card', agent: site.data?.adapter?.id, origin: new URL(page.url()).origin });
      throw new Error(`${e.message}; the background says ${JSON.stringify(why)}`);
    }
  }

  /** Answers the visible card with its first choice (or a few words on a text card). */
  async function answerCard(page) {
    const frame = cardFrame(page);
    const question = await frame.textContent('#q');
    if (await frame.$('.opt')) {
      const label = await frame.textContent('.opt span');
      await frame.click('.opt');
      return { question, label };
    }
    await frame.fill('#card input', 'short and direct');
    await frame.press('#card input', 'Enter');
    return { question, label: 'short and direct' };
  }

  /** Generates on `page`, answers the card that shows, and waits for the vault to hold it. */
  async function captureOne(page) {
    const before = (await status()).records;
    await nextCard(page);
    await generate(page, { ms: 3000 });
    await until('the card to show', () => overlayVisible(page), 3000);
    const answer = await answerCard(page);
    await until('the card to close after answering', async () => !(await overlayVisible(page)), 2000);
    await until('the answer to be saved', async () => (await status()).records === before + 1, 5000);
    return answer;
  }

  /** Creates the vault from the popup (or unlocks it when it exists). */
  async function unlock(passphrase) {
    await popup.fill('#passphrase', passphrase);
    if (await popup.$('#confirm')) await popup.fill('#confirm', passphrase);
    await popup.click('#unlock');
    await popup.waitForSelector('#today', { timeout: 20000 });
  }

  /** Every string and byte the vault's IndexedDB holds, as text, read from an extension page. */
  const vaultDump = () => popup.evaluate(readVaultInPage);

  async function close() {
    await ctx.close();
    fixtures.close();
    rmSync(tmp, { recursive: true, force: true });
  }

  return {
    ctx, worker, extId, origin, popup, tmp, send, status, cardFrame, frameState, overlayVisible,
    openSite, generate, running, latency, nextCard, answerCard, captureOne, unlock, vaultDump, close,
  };
}

/**
 * Runs in an extension page (its source is sent to the browser): every string and byte the
 * vault's IndexedDB holds, as text, and the number of records.
 */
export async function readVaultInPage() {
  const db = await new Promise((ok, err) => { const r = indexedDB.open('selfos-vault'); r.onsuccess = () => ok(r.result); r.onerror = () => err(r.error); });
  const text = [];
  let records = 0;
  for (const name of db.objectStoreNames) {
    const all = await new Promise((ok) => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result); });
    if (name === 'records') records = all.length;
    const walk = (v) => {
      if (typeof v === 'string') text.push(v);
      else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) text.push(new TextDecoder('utf-8', { fatal: false }).decode(v));
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    all.forEach(walk);
  }
  db.close();
  return { records, text: text.join('\n') };
}
