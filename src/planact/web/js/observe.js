// Simplified-HTML observation of the current page (planact). Called as a function with options:
//   {viewportOnly: bool, maxText: int, maxMs: int, maxChars: int}
// The walk stops after maxMs milliseconds or maxChars characters of output (a huge page), and says so.
// Every element kept gets a numeric id stored in the attribute data-planact-id, so the same DOM
// node keeps its id across observations. Open shadow roots are walked in place (what their slots
// show, where it shows; closed roots too, where shadow.js saw them made; a host whose closed root it did
// not see is marked `closed-shadow`), and so are same-origin iframes, with ids from the same numbering; a frame
// this page cannot read (cross-origin) is marked `cross-origin` (BrowserEnv observes it separately).
// window.__planactEls maps each id to its element, wherever it lives, for the actions.
// Returns {html, elements, rawChars}.
(opts) => {
  const ATTR = 'data-planact-id';
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'META', 'LINK', 'HEAD', 'BASE', 'TITLE']);
  const TRANSPARENT = new Set(['HTML', 'BODY', 'DIV', 'SPAN', 'SECTION', 'ARTICLE', 'MAIN', 'HEADER', 'FOOTER',
    'NAV', 'ASIDE', 'FONT', 'CENTER', 'B', 'I', 'EM', 'STRONG', 'SMALL', 'U', 'TBODY', 'THEAD', 'TFOOT',
    'FIGURE', 'PICTURE', 'G', 'SVG', 'BR', 'HR', 'WBR']);
  const INTERACTIVE = new Set(['A', 'BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'OPTION', 'SUMMARY', 'LABEL', 'DETAILS']);
  const ROLES = new Set(['button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'option', 'switch', 'textbox',
    'combobox', 'treeitem', 'slider', 'spinbutton', 'searchbox', 'menuitemcheckbox', 'menuitemradio', 'gridcell']);
  const KEEP_ATTRS = ['type', 'name', 'placeholder', 'aria-label', 'title', 'alt', 'role', 'href', 'fill',
    'aria-expanded', 'aria-selected', 'aria-checked', 'disabled', 'readonly', 'contenteditable'];
  const maxText = opts.maxText || 300;
  const maxMs = opts.maxMs || 3000, maxChars = opts.maxChars || 400000;
  const t0 = performance.now();
  let cut = null;
  let visited = 0;
  const vw = window.innerWidth, vh = window.innerHeight;
  // a cross-origin frame is observed on its own (BrowserEnv), numbering from its own idBase
  let next = window.__planactNextId || opts.idBase || 1;
  const out = [];
  let len = 0;
  const elements = [];
  const registry = window.__planactEls || (window.__planactEls = new Map());
  const styleOf = (el) => (el.ownerDocument.defaultView || window).getComputedStyle(el);
  const frames = [];  // cross-origin frames: [id, x, y] for BrowserEnv to observe on their own

  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const escAttr = (s) => esc(s).replace(/"/g, '&quot;');
  const clip = (s, n) => (s.length > n ? s.slice(0, n) + '…' : s);
  const push = (s) => { out.push(s); len += s.length; };

  function visible(el) {
    if (el.tagName === 'OPTION') return true;
    if (typeof el.checkVisibility === 'function') {
      if (!el.checkVisibility({ checkVisibilityCSS: true, checkOpacity: false })) return false;
    } else {
      const st = styleOf(el);
      if (st.display === 'none' || st.visibility === 'hidden') return false;
    }
    return true;
  }
  function inViewport(r) {
    return r.bottom > 0 && r.right > 0 && r.top < vh && r.left < vw;
  }
  function interactive(el, st) {
    if (INTERACTIVE.has(el.tagName)) return true;
    const role = el.getAttribute('role');
    if (role && ROLES.has(role)) return true;
    if (el.hasAttribute('onclick') || el.isContentEditable) return true;
    const ti = el.getAttribute('tabindex');
    if (ti !== null && +ti >= 0) return true;
    if (st.cursor === 'pointer') {
      const p = el.parentElement;
      return !p || styleOf(p).cursor !== 'pointer';
    }
    return false;
  }
  function directText(el) {
    let t = '';
    for (const n of el.childNodes) if (n.nodeType === 3) t += n.nodeValue;
    return t.replace(/\s+/g, ' ').trim();
  }
  function attrs(el) {
    const parts = [];
    for (const a of KEEP_ATTRS) {
      let v = el.getAttribute(a);
      if (v === null) continue;
      if (a === 'href') {
        if (v.startsWith('javascript:') || v === '#') continue;
        v = clip(v, 80);
      }
      parts.push(v === '' ? a : `${a}="${escAttr(clip(v, 120))}"`);
    }
    const tag = el.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') {
      const trivial = (el.type === 'checkbox' || el.type === 'radio') && el.value === 'on';
      // a password is masked, but that it is filled shows: an agent that typed it sees its effect
      if (el.value && el.type === 'password') parts.push(`value="${'*'.repeat(Math.min(el.value.length, 16))}"`);
      else if (el.value && !trivial) parts.push(`value="${escAttr(clip(String(el.value), 120))}"`);
      if (el.checked) parts.push('checked');
    }
    if (tag === 'OPTION' && el.selected) parts.push('selected');
    if (tag === 'IMG' && !el.getAttribute('alt') && !el.getAttribute('title') && el.getAttribute('src')) {
      const src = el.getAttribute('src').split('?')[0].split('/').pop();
      if (src && !src.startsWith('data:')) parts.push(`src="${escAttr(clip(src, 60))}"`);
    }
    return parts;
  }

  // what is rendered inside an element: an open shadow root's tree (whose slots show the light
  // children), a slot's assigned nodes, else the children
  const closedRoots = window.__planactClosedRoots;
  const rootOf = (el) => el.shadowRoot || (closedRoots && closedRoots.get(el)) || null;
  function childrenOf(el) {
    const root = rootOf(el);
    if (root) return root.childNodes;
    if (el.tagName === 'SLOT') {
      const assigned = el.assignedNodes({ flatten: true });
      return assigned.length ? assigned : el.childNodes;
    }
    return el.childNodes;
  }

  function walk(el, parentId, off) {
    if (cut) return;
    if ((++visited & 63) === 0 && performance.now() - t0 > maxMs) { cut = `time limit ${maxMs} ms`; return; }
    if (len > maxChars) { cut = `size limit ${maxChars} characters`; return; }
    if (SKIP.has(el.tagName) || el.id === 'sync-task-cover') return;
    if (el.tagName === 'SLOT') {  // no box of its own (display: contents): what it shows, where it shows it
      for (const n of childrenOf(el)) {
        if (n.nodeType === 3) {
          const t = n.nodeValue.replace(/\s+/g, ' ');
          if (t.trim()) push(esc(clip(t, maxText)));
        } else if (n.nodeType === 1) walk(n, parentId, off);
      }
      return;
    }
    if (!visible(el)) return;
    const st = styleOf(el);
    const b = el.getBoundingClientRect();
    const rect = off ? { x: b.x + off.x, y: b.y + off.y, width: b.width, height: b.height, top: b.top + off.y,
      bottom: b.bottom + off.y, left: b.left + off.x, right: b.right + off.x } : b;
    let inner = null;  // a frame's document, when this page may read it
    if (el.tagName === 'IFRAME' || el.tagName === 'FRAME') {
      try { inner = el.contentDocument; } catch (e) { inner = null; }
    }
    const text = directText(el);
    const act = interactive(el, st);
    const a = attrs(el);
    const shadow = rootOf(el);
    const leaf = el.children.length === 0 && !shadow && !inner;
    const sized = rect.width > 0 && rect.height > 0;
    if (leaf && !sized && !text && el.tagName !== 'OPTION') return;
    if (opts.viewportOnly && leaf && !inViewport(rect) && el.tagName !== 'OPTION') return;
    const tagName = el.tagName.toLowerCase();
    // A sized leaf without text (an icon, a swatch) is kept with its class as the only hint.
    const iconLike = leaf && sized && !text && TRANSPARENT.has(el.tagName) && el.tagName !== 'BR' && el.tagName !== 'HR';
    // ... unless it is only a drag handle (a dialog's resize edges and corners): no action drags, and a
    // resizable dialog has eight of them
    if (iconLike && !act && /resize|move|grab/.test(st.cursor)) return;
    if ((iconLike || (act && !text && leaf)) && a.length === 0) {
      // A textless icon's only meaning is often in its class or the page's own id.
      const cls = (typeof el.className === 'string' ? el.className : '').trim();
      if (cls) a.push(`class="${escAttr(clip(cls, 60))}"`);
      else if (el.id) a.push(`dom-id="${escAttr(clip(el.id, 60))}"`);
    }
    if ((el.tagName === 'IFRAME' || el.tagName === 'FRAME') && !inner) a.push('cross-origin');
    // a custom element that renders something without children or text of its own: its content is in a
    // shadow root nobody can read (declared closed in the HTML); marked, so the agent knows it is there
    if (leaf && sized && !text && el.tagName.includes('-')) a.push('closed-shadow');
    const keep = act || text || iconLike || !TRANSPARENT.has(el.tagName) ||
      el.hasAttribute('aria-label') || el.hasAttribute('title') || el.hasAttribute('role');
    let id = null;
    const start = len;
    if (keep && el.tagName !== 'HTML' && el.tagName !== 'BODY' && el.tagName !== 'BR') {
      id = +el.getAttribute(ATTR) || 0;
      if (!id) { id = next++; el.setAttribute(ATTR, String(id)); }
      registry.set(id, new WeakRef(el));
      push(`\n<${tagName} id="${id}"${a.length ? ' ' + a.join(' ') : ''}>`);
    }
    if (inner && inner.documentElement) {
      const fo = { x: rect.left + el.clientLeft, y: rect.top + el.clientTop };
      walk(inner.documentElement, id === null ? parentId : id, fo);
    } else if (id !== null && a.includes('cross-origin')) {
      frames.push([id, rect.left + el.clientLeft, rect.top + el.clientTop]);
    }
    for (const n of childrenOf(el)) {
      if (n.nodeType === 3) {
        const t = n.nodeValue.replace(/\s+/g, ' ');
        if (t.trim()) push(esc(clip(t, maxText)));
      } else if (n.nodeType === 1) {
        walk(n, id === null ? parentId : id, off);
      }
    }
    if (id !== null) {
      const empty = /^(input|img|canvas|circle|rect|polygon|ellipse|line|path)$/.test(tagName);
      if (!empty) push(`</${tagName}>`);
      elements.push({
        id, tag: tagName, text: clip(text || (el.innerText || '').replace(/\s+/g, ' ').trim(), 120),
        parent: parentId, start, end: len, interactive: act,
        inViewport: inViewport(rect), x: rect.x, y: rect.y, w: rect.width, h: rect.height,
      });
    }
  }

  walk(document.documentElement, null, null);
  window.__planactNextId = next;
  return {
    html: out.join(''),
    elements,
    rawChars: document.documentElement.outerHTML.length,
    cut,
    frames,
    scrollY: window.scrollY,
    pageHeight: document.documentElement.scrollHeight,
    viewportHeight: vh,
  };
}
