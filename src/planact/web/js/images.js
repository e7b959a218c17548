// Waits (at most timeoutMs) for images that are still loading: <img> elements and CSS `content: url(...)`
// images. Until such an image arrives its element can have no width, and the observation would drop it
// (MiniWoB's social-media and email-inbox icons are CSS content images). Returns how many it waited for.
async (timeoutMs) => {
  const pending = [];
  for (const img of document.images) {
    // A lazy image below the fold loads only when scrolled to: waiting for it would always time out.
    if (!img.complete && img.loading !== 'lazy') pending.push(img.decode().catch(() => null));
  }
  for (const el of document.querySelectorAll('*')) {
    const content = getComputedStyle(el).content;
    if (!content || !content.startsWith('url(')) continue;
    const m = content.match(/^url\("?(.*?)"?\)$/);
    if (!m) continue;
    const probe = new Image();
    probe.src = m[1];
    if (!probe.complete) pending.push(probe.decode().catch(() => null));
  }
  if (pending.length === 0) return 0;
  await Promise.race([Promise.all(pending), new Promise((done) => setTimeout(done, timeoutMs))]);
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return pending.length;
}
