// Resolves once what the last action started is over (see settle.js): no tracked timer pending, no
// request in flight, no navigation starting, and no DOM mutation for `quietMs`; or after `maxMs`.
// Returns what it waited for, for the trace. A document without the tracker waits one quiet window.
async ({ quietMs, maxMs }) => {
  const st = window.__planactSettle;
  const t0 = performance.now();
  const sleep = (ms) => new Promise((r) => (st ? st.origSet : setTimeout)(r, ms));
  if (!st) { await sleep(quietMs); return 'untracked'; }
  const NAVIGATION_MS = 1500;
  for (;;) {
    const now = performance.now();
    const busy = st.pending.size ? 'timers' : st.inflight > 0 ? 'requests' : st.pendingSubmit ? 'navigation'
      : (st.navigatingSince && now - st.navigatingSince < NAVIGATION_MS) ? 'navigation'
      : (now - Math.max(st.last, st.armedAt) < quietMs) ? 'mutations' : null;
    if (!busy) {
      const how = st.popup ? 'settled, opened a tab' : 'settled';
      return st.skipped ? `${how} (${st.skipped} timer${st.skipped > 1 ? 's' : ''} known to change nothing not awaited)` : how;
    }
    if (now - t0 >= maxMs) return 'limit: ' + busy;
    await sleep(Math.min(10, quietMs));
  }
}
