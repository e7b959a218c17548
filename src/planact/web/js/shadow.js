// planact's record of closed shadow roots, installed in every document before its own scripts run (an
// init script). A closed root is invisible to page scripts (element.shadowRoot is null), so observe.js
// could not show what a web component renders inside one; attachShadow is wrapped to remember each
// closed root of its host, and nothing else about the call changes. A root the page declares in its
// HTML (<template shadowrootmode="closed">) never calls attachShadow and stays unseen: observe.js
// marks its host instead.
(() => {
  if (window.__planactClosedRoots) return;
  const roots = new WeakMap();
  Object.defineProperty(window, '__planactClosedRoots', { value: roots, enumerable: false });
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    if (init && init.mode === 'closed') roots.set(this, root);
    return root;
  };
})();
