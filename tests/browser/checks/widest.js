// What makes the page scroll sideways: the innermost elements, or words, that reach past the
// window's edges (words in a visually hidden label are cut off, so they do not count).
() => {
  const width = document.documentElement.clientWidth;
  const outside = r => r.width && (r.right > width + 1 || r.left < -1);
  const name = el => el.tagName.toLowerCase()
    + (el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : '');
  const found = [];
  const walker = document.createTreeWalker(
    document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node && found.length < 4; node = walker.nextNode()) {
    const words = node.nodeType === Node.TEXT_NODE;
    const el = words ? node.parentElement : node;
    if (words && (!node.textContent.trim() || el.closest('.visually-hidden'))) continue;
    let rect;
    if (words) {
      const range = document.createRange();
      range.selectNodeContents(node);
      rect = range.getBoundingClientRect();
    } else {
      rect = node.getBoundingClientRect();
    }
    if (!outside(rect)) continue;
    if (!words && [...el.children].some(c => outside(c.getBoundingClientRect()))) continue;
    const text = (node.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 30);
    found.push(`${words ? 'words in ' : ''}${name(el)} "${text}" to ${Math.round(rect.right)}px`);
  }
  return found;
}
