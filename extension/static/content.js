// SelfOS host-page sensor and mount: the only code that runs in the AI site's page.
// It is deliberately thin (budget: 4 KB gzipped) and CSP-proof (no WebAssembly, no eval, no
// storage): it mounts one hidden extension frame inside a closed shadow root, reads a few
// DOM facts with the selectors the frame sends, and shows or hides the frame when asked.
// Every decision (is the AI generating? which card?) is made in Rust inside that frame.
(() => {
  if (globalThis.__selfosSensor) return;
  globalThis.__selfosSensor = 1;
  const W = 360, GAP = 16;
  const url = chrome.runtime.getURL('card.html');
  const nonce = crypto.randomUUID();
  const host = document.createElement('selfos-overlay');
  const root = host.attachShadow({ mode: 'closed' });
  const frame = document.createElement('iframe');
  const base = `all:initial;display:block;position:fixed;z-index:2147483647;width:${W}px;max-width:calc(100vw - ${2 * GAP}px);border:0;`;
  // Every declaration !important: `all:initial!important` would beat any plain one.
  const place = (css) => host.setAttribute('style', (base + css).split(';').filter(Boolean).map((d) => d + '!important').join(';'));
  place(`top:${GAP}px;right:${GAP}px;height:0;visibility:hidden;pointer-events:none`);
  frame.title = 'SelfOS micro-training card';
  frame.setAttribute('style', 'border:0;width:100%;height:100%;background:transparent;color-scheme:normal');
  frame.src = `${url}#n=${nonce}&o=${encodeURIComponent(location.origin)}`;
  root.append(frame);
  document.documentElement.append(host);

  let sel = null, port = null, sent = '', obs = null, timer = 0, lastRun = 0, shown = false, before = null;
  const each = (list, f) => {
    for (const s of list || []) {
      try { const els = document.querySelectorAll(s); if (els.length) return f(els); } catch (_) { /* a bad user selector */ }
    }
    return f([]);
  };
  const seen = (e) => !e.disabled && e.getAttribute('aria-disabled') !== 'true' &&
    (e.checkVisibility ? e.checkVisibility({ visibilityProperty: true }) : e.getClientRects().length > 0);
  const count = (list, vis) => each(list, (els) => [...els].filter((e) => !vis || seen(e)).length);
  const any = (list, vis) => count(list, vis) > 0;
  const last = (list) => each(list, (els) => els[els.length - 1]);
  const read = () => {
    lastRun = performance.now();
    timer = 0;
    if (!sel || !port) return;
    const a = each(sel.answer, (els) => [els.length, els.length ? els[els.length - 1].textContent.length : 0]);
    const o = {
      type: 'obs', t: lastRun, stop: any(sel.stop, 1), busy: any(sel.busy), answers: a[0], len: a[1],
      error: count(sel.error, 1), retry: count(sel.retry, 1), path: location.pathname,
    };
    const key = JSON.stringify({ ...o, t: 0 });
    if (key !== sent) { sent = key; port.postMessage(o); }
  };
  // Leading and trailing throttle: the first mutation is read at once (the card has a
  // 100 ms budget), bursts while text streams cost one read per 50 ms.
  const poke = () => {
    if (timer) return;
    const wait = 50 - (performance.now() - lastRun);
    if (wait <= 0) read(); else timer = setTimeout(read, wait);
  };
  const rect = (list) => { const e = last(list); return e && e.getBoundingClientRect(); };
  const hits = (a, b) => b && a.l < b.right && b.left < a.r && a.t < b.bottom && b.top < a.b;
  // Never over the composer or the answer being written: the first free corner wins.
  const show = (h) => {
    const vw = innerWidth, vh = innerHeight, w = Math.min(W, vw - 2 * GAP), l = vw - GAP - w;
    const composer = rect(sel.composer), answer = rect(sel.answer);
    const cands = [[l, GAP + 56], [l, GAP], [l, composer ? composer.top - GAP - h : vh - GAP - h], [GAP, GAP + 56]]
      .map(([x, y]) => ({ l: x, r: x + w, t: y, b: y + h }));
    const fits = (b, strict) => b.t >= 0 && b.b <= vh && !hits(b, composer) && !(strict && hits(b, answer));
    const { l: left, t: top } = cands.find((b) => fits(b, 1)) || cands.find((b) => fits(b, 0)) || cands[1];
    place(`top:${top}px;left:${left}px;height:${h}px`);
    shown = true;
  };
  const hide = () => {
    place(`top:${GAP}px;right:${GAP}px;height:0;visibility:hidden;pointer-events:none`);
    if (shown && document.activeElement === host && before && before.isConnected) before.focus();
    shown = false;
    before = null;
  };
  const onFrame = (e) => {
    const m = e.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'sense') {
      sel = m.selectors;
      if (!sel) { obs && obs.disconnect(); host.remove(); return; }
      obs = obs || new MutationObserver(poke);
      obs.observe(document.documentElement, { subtree: true, childList: true, characterData: true, attributes: true });
      read();
    } else if (m.type === 'show' && sel && Number.isFinite(m.height)) {
      show(Math.max(40, Math.min(m.height, innerHeight - 2 * GAP)));
    } else if (m.type === 'hide') hide();
  };
  // The frame says when its listener is up (module start-up outlives the load event); the
  // private port goes to that frame only, at the extension's origin, with the nonce.
  addEventListener('message', (e) => {
    if (port || e.source !== frame.contentWindow || !e.data || e.data.selfos !== 'ready') return;
    // Chrome serves a dynamic-URL frame at the extension's own origin: answer to the origin
    // the frame speaks from, provided it is an extension's.
    if (!/^(chrome|moz)-extension:\/\//.test(e.origin)) return;
    const ch = new MessageChannel();
    port = ch.port1;
    port.onmessage = onFrame;
    frame.contentWindow.postMessage({ selfos: nonce }, e.origin, [ch.port2]);
  });
  addEventListener('keydown', (e) => {
    if (shown && e.altKey && e.shiftKey && e.code === 'KeyS') {
      e.preventDefault();
      e.stopPropagation();
      before = document.activeElement;
      frame.focus();
      port.postMessage({ type: 'focus' });
    }
  }, true);
  document.addEventListener('visibilitychange', () => port && port.postMessage({ type: 'visibility', visible: !document.hidden }));
})();
