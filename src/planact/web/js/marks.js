// Set-of-marks for a screenshot: each element id drawn as a small label at its box's top-left corner
// (elements in the viewport only), or, with `remove`, the labels taken away again.
(args) => {
  const LAYER = 'planact-marks';
  const old = document.getElementById(LAYER);
  if (old) old.remove();
  if (args.remove) return 0;
  const layer = document.createElement('div');
  layer.id = LAYER;
  layer.style.cssText = 'position:fixed;left:0;top:0;width:0;height:0;z-index:2147483647;pointer-events:none';
  for (const [id, x, y, w, h] of args.boxes) {
    if (x + w < 0 || y + h < 0 || x > innerWidth || y > innerHeight) continue;
    const box = document.createElement('div');
    box.style.cssText = `position:fixed;left:${x}px;top:${y}px;width:${w}px;height:${h}px;` +
      'outline:1px solid rgba(255,0,80,.8);box-sizing:border-box';
    const tag = document.createElement('span');
    tag.textContent = String(id);
    tag.style.cssText = 'position:absolute;left:0;top:0;font:bold 10px/12px sans-serif;color:#fff;' +
      'background:rgba(255,0,80,.85);padding:0 2px';
    box.appendChild(tag);
    layer.appendChild(box);
  }
  document.documentElement.appendChild(layer);
  return layer.childElementCount;
}
