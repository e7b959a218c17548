// planact's settling tracker, installed in every document before its own scripts run (an init
// script). After an action, the agent waits for what the action started instead of sleeping: timers of
// up to 1 s set since the action (a debounce, a delayed update; chains followed 3 deep), fetch/XHR
// requests in flight, a navigation that has begun, and DOM mutations, which must go quiet for a
// short window. `arm()` marks the start of an action; quiet.js waits on this state.
(() => {
  if (window.__planactSettle) return;
  const origSet = window.setTimeout.bind(window);
  const origClear = window.clearTimeout.bind(window);
  const ARMED_MS = 2000, MAX_DELAY = 1000, MAX_DEPTH = 3;
  const st = {
    origSet, pending: new Set(), inflight: 0, last: performance.now(), armedAt: performance.now(),
    navigatingSince: 0, depth: 0,
    popup: false,  // the action opened a tab or window (window.open, a link with a target)
    arm() { st.armedAt = performance.now(); st.pending.clear(); st.inflight = 0; st.navigatingSince = 0; st.popup = false; },
    armed() { return performance.now() - st.armedAt < ARMED_MS; },
  };
  Object.defineProperty(window, '__planactSettle', { value: st, enumerable: false });

  window.setTimeout = function (fn, delay, ...args) {
    if (typeof fn !== 'function') return origSet(fn, delay, ...args);
    const depth = st.depth;
    const track = st.armed() && (Number(delay) || 0) <= MAX_DELAY && depth < MAX_DEPTH;
    const id = origSet(function (...a) {
      st.pending.delete(id);
      const prev = st.depth;
      st.depth = depth + 1;
      try { return fn.apply(this, a); } finally { st.depth = prev; }
    }, delay, ...args);
    if (track) st.pending.add(id);
    return id;
  };
  window.clearTimeout = function (id) { st.pending.delete(id); return origClear(id); };

  const origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (...a) {
      if (!st.armed()) return origFetch.apply(this, a);
      st.inflight++;
      const done = () => { st.inflight = Math.max(0, st.inflight - 1); };
      const p = origFetch.apply(this, a);
      p.then(done, done);
      return p;
    };
  }
  const origSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...a) {
    if (!st.armed()) return origSend.apply(this, a);
    st.inflight++;
    const done = () => { st.inflight = Math.max(0, st.inflight - 1); };
    this.addEventListener('loadend', done, { once: true });
    try { return origSend.apply(this, a); } catch (e) { done(); throw e; }
  };

  const origOpen = window.open;
  window.open = function (...a) { st.popup = true; return origOpen.apply(this, a); };
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest && e.target.closest('a[target]');
    const t = a && a.getAttribute('target');
    if (t && !['_self', '_parent', '_top'].includes(t)) origSet(() => { if (!e.defaultPrevented) st.popup = true; }, 0);
  }, true);
  // A form submission navigates a task after its submit event (unless a listener prevents it): busy
  // from the event until that is known.
  document.addEventListener('submit', (e) => {
    st.pendingSubmit = true;
    origSet(() => {
      st.pendingSubmit = false;
      if (!e.defaultPrevented) st.navigatingSince = performance.now();
    }, 0);
  }, true);
  if (window.navigation) {
    navigation.addEventListener('navigate', (e) => {
      if (!e.destination.sameDocument) st.navigatingSince = performance.now();
    });
    navigation.addEventListener('navigateerror', () => { st.navigatingSince = 0; });
  }
  new MutationObserver(() => { st.last = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();
