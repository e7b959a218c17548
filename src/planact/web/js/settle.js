// planact's settling tracker, installed in every document before its own scripts run (an init
// script). After an action, the agent waits for what the action started instead of sleeping: timers of
// up to 1 s set since the action (a debounce, a delayed update; chains followed 3 deep), fetch/XHR
// requests in flight, a navigation that has begun, and DOM mutations, which must go quiet for a
// short window. `arm()` marks the start of an action; quiet.js waits on this state.
// A timer of 100 ms or more whose call site (and delay) last ran to no effect in this document (no DOM
// change, no timer or request it started) is not waited for again, until it has an effect once more:
// jQuery UI's menus, for one, set a 300 ms collapse timer on every click of the page, which mostly
// collapses nothing.
(() => {
  if (window.__planactSettle) return;
  const origSet = window.setTimeout.bind(window);
  const origClear = window.clearTimeout.bind(window);
  const ARMED_MS = 2000, MAX_DELAY = 1000, MAX_DEPTH = 3, LEARN_DELAY = 100;
  const st = {
    origSet, pending: new Set(), inflight: 0, last: performance.now(), armedAt: performance.now(),
    navigatingSince: 0, depth: 0, started: 0,
    popup: false,  // the action opened a tab or window (window.open, a link with a target)
    skipped: 0,  // timers not waited for since the action (their call site last changed nothing)
    noEffect: new Set(),  // call sites whose last timer changed nothing
    arm() {
      st.armedAt = performance.now(); st.pending.clear(); st.inflight = 0; st.navigatingSince = 0;
      st.popup = false; st.skipped = 0;
    },
    armed() { return performance.now() - st.armedAt < ARMED_MS; },
  };
  Object.defineProperty(window, '__planactSettle', { value: st, enumerable: false });
  const observer = new MutationObserver(() => { st.last = performance.now(); });

  window.setTimeout = function (fn, delay, ...args) {
    if (typeof fn !== 'function') return origSet(fn, delay, ...args);
    const depth = st.depth;
    const ms = Number(delay) || 0;
    let track = st.armed() && ms <= MAX_DELAY && depth < MAX_DEPTH;
    // the caller's place in the code (the frames above this wrapper) and the delay name the call site
    const site = track && ms >= LEARN_DELAY ? (new Error().stack || '').split('\n').slice(2, 5).join('|') + '@' + ms : null;
    if (site && st.noEffect.has(site)) { track = false; st.skipped++; }
    const id = origSet(function (...a) {
      st.pending.delete(id);
      const prev = st.depth;
      st.depth = depth + 1;
      let before = 0;
      if (site) {
        if (observer.takeRecords().length) st.last = performance.now();
        before = st.started;
      }
      try { return fn.apply(this, a); } finally {
        st.depth = prev;
        if (site) {
          const changed = observer.takeRecords().length > 0;
          if (changed) st.last = performance.now();
          if (changed || st.started !== before) st.noEffect.delete(site); else st.noEffect.add(site);
        }
      }
    }, delay, ...args);
    if (track) { st.pending.add(id); st.started++; }
    return id;
  };
  window.clearTimeout = function (id) { st.pending.delete(id); return origClear(id); };

  const origFetch = window.fetch;
  if (origFetch) {
    window.fetch = function (...a) {
      if (!st.armed()) return origFetch.apply(this, a);
      st.inflight++; st.started++;
      const done = () => { st.inflight = Math.max(0, st.inflight - 1); };
      const p = origFetch.apply(this, a);
      p.then(done, done);
      return p;
    };
  }
  const origSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...a) {
    if (!st.armed()) return origSend.apply(this, a);
    st.inflight++; st.started++;
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
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();
