// Where to click element `id` as a person would: scrolled into view if it is not, the point at its
// centre, and whether that point really is the element (or inside it) rather than something covering it.
// One round trip instead of Playwright's actionability checks; callers fall back to Playwright's own
// click where this cannot say (no layout box, an <option>, a covered point).
(id) => {
  const el = document.querySelector(`[data-planact-id="${id}"]`);
  if (!el) return { error: 'missing' };
  if (el.tagName === 'OPTION' || !el.checkVisibility({ checkVisibilityCSS: true })) return { fallback: true };
  let r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return { fallback: true };
  if (r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
    el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
    r = el.getBoundingClientRect();
  }
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === el || el.contains(hit))) {
    const by = hit && hit.closest('[data-planact-id]');
    return { fallback: true, covered: by ? by.getAttribute('data-planact-id') : null };
  }
  return { x, y };
}
