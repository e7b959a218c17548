// Where to click element `id` as a person would: scrolled into view if it is not, the point at its
// centre (in the page's coordinates, also for an element inside a same-origin frame or a shadow
// root), and whether that point really is the element (or inside it) rather than something covering
// it. One round trip instead of Playwright's actionability checks; callers fall back to Playwright's
// own click where this cannot say (no layout box, an <option>, a covered point).
(id) => {
  const ref = window.__planactEls && window.__planactEls.get(id);
  const el = (ref && ref.deref()) || document.querySelector(`[data-planact-id="${id}"]`);
  if (!el || !el.isConnected) return { error: 'missing' };
  if (el.tagName === 'OPTION' || !el.checkVisibility({ checkVisibilityCSS: true })) return { fallback: true };
  let r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return { fallback: true };
  const view = el.ownerDocument.defaultView;
  if (r.top < 0 || r.left < 0 || r.bottom > view.innerHeight || r.right > view.innerWidth) {
    el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
    r = el.getBoundingClientRect();
  }
  const lx = r.left + r.width / 2, ly = r.top + r.height / 2;
  const root = el.getRootNode();  // the shadow root it lives in, or its document
  const hit = (root.elementFromPoint ? root : el.ownerDocument).elementFromPoint(lx, ly);
  if (!hit || !(hit === el || el.contains(hit))) {
    const by = hit && hit.closest('[data-planact-id]');
    // covered by an element the agent can see (it has an id): say which; else Playwright's click decides
    return { fallback: true, covered: by && by !== el && !by.contains(el) ? by.getAttribute('data-planact-id') : null };
  }
  let x = lx, y = ly, w = view;
  while (w !== window && w.frameElement) {  // same-origin frames: into the top page's coordinates
    const f = w.frameElement, fr = f.getBoundingClientRect();
    x += fr.left + f.clientLeft;
    y += fr.top + f.clientTop;
    w = w.parent;
  }
  if (w !== window) return { fallback: true };
  return { x, y };
}
