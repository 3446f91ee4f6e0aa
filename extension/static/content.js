// SelfOS host-page sensor and mount: the only code that runs in the AI site's page.
// It is deliberately thin (budget: 4 KB gzipped) and CSP-proof (no WebAssembly, no eval, no
// storage of its own): it mounts one hidden extension frame inside a closed shadow root,
// reads a few DOM facts with the selectors the frame sends, shows or hides the frame when
// asked, and carries the frame's requests to the background (the frame has no extension
// APIs). Every decision (is the AI generating? which card? what context?) is made in Rust
// inside that frame. It also inserts the user's context into the composer when asked (a small
// control by the composer, Alt+Shift+I, or the popup): the frame sends the text, this puts it
// at the caret the way the site's editor takes pasted or typed text, and never sends it.
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
  // The frame's colour scheme must be its page's (card.html: light dark), or Chrome paints
  // an opaque backdrop behind it: a black box around the card on a light site in dark mode.
  frame.setAttribute('style', 'border:0;width:100%;height:100%;background:transparent;color-scheme:light dark');
  frame.src = `${url}#n=${nonce}&o=${encodeURIComponent(location.origin)}`;
  root.append(frame);
  document.documentElement.append(host);

  let sel = null, port = null, sent = '', obs = null, timer = 0, lastRun = 0, shown = false, before = null, docked = 0, dockTimer = 0;
  const each = (list, f) => {
    for (const [i, s] of (list || []).entries()) {
      try { const els = document.querySelectorAll(s); if (els.length) return f(els, i); } catch (_) { /* a bad user selector */ }
    }
    return f([]);
  };
  const seen = (e) => !e.disabled && e.getAttribute('aria-disabled') !== 'true' &&
    (e.checkVisibility ? e.checkVisibility({ visibilityProperty: true }) : e.getClientRects().length > 0);
  const count = (list, vis) => each(list, (els) => [...els].filter((e) => !vis || seen(e)).length);
  const any = (list, vis) => count(list, vis) > 0;
  const last = (list) => each(list, (els) => els[els.length - 1]);
  let b;
  const read = () => {
    lastRun = performance.now();
    timer = 0;
    if (!sel || !port) return;
    // Which answer selector matched (`ai`): past the site's own, only a generic guess did.
    const a = each(sel.answer, (els, i) => [els.length, els.length ? els[els.length - 1].textContent.length : 0, i]);
    const o = {
      type: 'obs', t: lastRun, stop: any(sel.stop, 1), busy: any(sel.busy), answers: a[0], len: a[1],
      error: count(sel.error, 1), retry: count(sel.retry, 1), path: location.pathname, empty: !!(b = box()) && !val(b).trim(), ai: a[2],
    };
    const key = JSON.stringify({ ...o, t: 0 });
    if (key !== sent) { sent = key; port.postMessage(o); }
    // The control follows the composer at most twice a second (measuring forces a layout).
    if (!dockTimer) dockTimer = setTimeout(() => { dockTimer = 0; dock(); }, lastRun - docked > 500 ? 0 : 500);
    docked = lastRun;
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
    // Below the site's own header (ChatGPT's is 56 px, others taller), where there is one.
    const head = Math.max(GAP + 56, ...[...document.querySelectorAll('header,[role=banner]')].map((e) => e.getBoundingClientRect())
      .filter((r) => r.top < GAP && r.bottom < vh / 3 && r.right > l).map((r) => r.bottom + GAP));
    const cands = [[l, head], [l, GAP], [l, composer ? composer.top - GAP - h : vh - GAP - h], [GAP, GAP + 56]]
      .map(([x, y]) => ({ l: x, r: x + w, t: y, b: y + h }));
    const fits = (b, strict) => b.t >= 0 && b.b <= vh && !hits(b, composer) && !(strict && hits(b, answer));
    const { l: left, t: top } = cands.find((b) => fits(b, 1)) || cands.find((b) => fits(b, 0)) || cands[1];
    place(`top:${top}px;left:${left}px;height:${h}px`);
    // Where focus goes back when the card closes, whether it was answered by keyboard or mouse.
    if (!shown) before = document.activeElement;
    shown = true;
    dock();
  };
  const hide = () => {
    place(`top:${GAP}px;right:${GAP}px;height:0;visibility:hidden;pointer-events:none`);
    if (shown && document.activeElement === host && before && before.isConnected) before.focus();
    shown = false;
    before = null;
    dock();
  };
  // The insert control and its notice: one more host with a closed shadow root.
  let ctlOn = false, target = null, tipTimer = 0, ctlCss = '';
  const ctl = document.createElement('selfos-insert');
  const cr = ctl.attachShadow({ mode: 'closed' });
  // Not `all:initial!important` on :host: an important declaration inside the shadow tree
  // would beat the host's inline place.
  cr.innerHTML = '<style>:host{all:initial}button{font:600 12px system-ui,sans-serif;border:1px solid #8886;border-radius:12px;padding:3px 9px;background:#fff;color:#333;cursor:pointer;box-shadow:0 1px 3px #0003}p{position:absolute;bottom:28px;right:0;width:260px;margin:0;padding:8px;font:13px system-ui,sans-serif;background:#222;color:#fff;border-radius:6px}p:empty{display:none}</style><p role="status"></p><button title="Insert what SelfOS knows about you at the caret (Alt+Shift+I). Nothing is sent.">+ My context</button>';
  const [tip, btn] = [cr.querySelector('p'), cr.querySelector('button')];
  const say = (m) => { tip.textContent = m; clearTimeout(tipTimer); tipTimer = setTimeout(() => { tip.textContent = ''; }, 8000); };
  const editable = (e) => e && (e.isContentEditable || /^(TEXTAREA|INPUT)$/.test(e.tagName));
  const box = () => {
    const c = sel && last(sel.composer);
    return c && (editable(c) ? c : c.querySelector('[contenteditable=true],textarea'));
  };
  const dock = () => {
    const c = ctlOn && !shown && box(), r = c && c.getBoundingClientRect();
    if (!r || !r.width) { ctl.remove(); return; }
    // Only real changes touch the DOM: the sensor observes it, and a write per read would loop.
    const css = `position:fixed!important;z-index:2147483646!important;top:${Math.max(4, r.top - 30)}px!important;left:${Math.max(4, r.right - 110)}px!important`;
    if (css !== ctlCss) ctl.setAttribute('style', ctlCss = css);
    if (!ctl.isConnected) document.documentElement.append(ctl);
  };
  const ask = () => {
    if (!port || !ctlOn) return;
    const a = document.activeElement;
    target = editable(a) ? a : box();
    port.postMessage({ type: 'insert' });
  };
  const val = (e) => e.value ?? e.innerText;
  // A new chat started with the user's context (standing consent): Esc removes it, any other
  // key keeps it.
  let armed = null;
  const insert = async (text, auto) => {
    const el = target && target.isConnected ? target : box();
    if (!el) return say('SelfOS found no chat box here: click into it, then try again.');
    tip.textContent = '';
    if (document.activeElement !== el) { el.focus(); await new Promise((r) => setTimeout(r)); }
    let done = false;
    if (el.isContentEditable) {
      // Rich editors (ProseMirror, Quill, Lexical) take a paste through their own model.
      const dt = new DataTransfer();
      dt.setData('text/plain', text);
      done = !el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }
    if (!done) document.execCommand('insertText', false, text);
    const tail = text.slice(text.lastIndexOf('\n') + 1);
    // The frame keeps a delivery record of what reached the chat (or the clipboard).
    const delivered = (copied) => port && port.postMessage({ type: 'inserted', copied });
    setTimeout(async () => {
      if (val(el).includes(tail)) {
        if (auto) { armed = el; say('SelfOS started this chat with your context. Esc removes it.'); }
        return delivered(false);
      }
      try {
        await navigator.clipboard.writeText(text);
        delivered(true);
        say('This chat box refused the text, so SelfOS put your context on the clipboard: paste it with Ctrl+V (⌘V on a Mac).');
      } catch (_) {
        say('This chat box refused the text and the clipboard is blocked: open the SelfOS popup to see your context.');
      }
    }, 60);
  };
  btn.addEventListener('mousedown', (e) => e.preventDefault());
  btn.addEventListener('click', ask);
  addEventListener('resize', dock);
  addEventListener('scroll', dock, true);
  chrome.runtime.onMessage.addListener((m, s, reply) => {
    if (s.id !== chrome.runtime.id || !m) return;
    if (m.selfos === 'insert') { ask(); reply(ctlOn); }
    if (m.selfos === 'origin') reply(location.origin);
  });
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
    else if (m.type === 'control') { ctlOn = !!m.on; dock(); }
    else if (m.type === 'insert' && typeof m.text === 'string') insert(m.text, m.auto);
    else if (m.type === 'notice' && typeof m.message === 'string') say(m.message);
    else if (m.type === 'call' && Number.isInteger(m.id)) relay(m.id, m.request);
  };
  // The frame has no extension APIs (Chrome: a sandboxed page), so it cannot read the vault
  // key: its requests to the background go through here, and the background grants this
  // tab only a card's requests for this site.
  // No answer (the extension was updated under this page): `{ok: false}`, which the frame
  // explains.
  const relay = (id, request) => new Promise((r) => r(chrome.runtime.sendMessage(request)))
    .then((r) => r || { ok: false }, () => ({ ok: false }))
    .then((reply) => port && port.postMessage({ type: 'reply', id, reply }));
  // The background's announcements (the vault locked or unlocked), passed on to the frame.
  chrome.storage.onChanged.addListener((c, a) => {
    if (port && a === 'local' && c.announcement) port.postMessage({ type: 'announced', value: c.announcement.newValue });
  });
  // The private port goes to the frame only, at the extension's origin, with the nonce.
  const give = (origin) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = (e) => { if (!port) { port = ch.port1; port.onmessage = onFrame; onFrame(e); } };
    frame.contentWindow.postMessage({ selfos: nonce }, origin, [ch.port2]);
  };
  // Firefox: the frame's listener comes up after its module starts, so the port is offered at
  // the extension's origin until the frame speaks on one; the frame posts nothing to the
  // page's window, which would show the page the extension's per-install origin.
  let tries = 0;
  const offer = setInterval(() => {
    if (port || !frame.contentWindow || ++tries > 600) return clearInterval(offer);
    give(new URL(url).origin);
  }, 100);
  // Chrome serves the card as a sandboxed page, at an opaque origin ("null"): the frame says
  // when it listens (to this page's origin only) and the port goes to that window, the
  // frame this script made inside its closed shadow root (the page cannot reach it).
  addEventListener('message', (e) => {
    if (port || e.source !== frame.contentWindow || !e.data || e.data.selfos !== 'ready') return;
    if (e.origin === 'null') give('*');
  });
  addEventListener('keydown', (e) => {
    if (shown && e.altKey && e.shiftKey && e.code === 'KeyS') {
      e.preventDefault();
      e.stopPropagation();
      before = document.activeElement;
      frame.focus();
      port.postMessage({ type: 'focus' });
    } else if (e.altKey && e.shiftKey && e.code === 'KeyI' && ctlOn) {
      e.preventDefault();
      e.stopPropagation();
      ask();
    } else if (armed) {
      if (e.key === 'Escape' && document.activeElement === armed) {
        e.preventDefault();
        e.stopPropagation();
        if (armed.select) armed.select(); else getSelection().selectAllChildren(armed);
        document.execCommand('delete');
        port.postMessage({ type: 'removed' });
        say('Removed.');
      }
      armed = null;
    }
  }, true);
  document.addEventListener('visibilitychange', () => port && port.postMessage({ type: 'visibility', visible: !document.hidden }));
})();
