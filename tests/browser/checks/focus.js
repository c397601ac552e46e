// Every control that takes focus shows it. Each is focused in turn (the test presses a key
// first, so that Chromium shows focus as it does for the keyboard) and compared with how it
// looked before. It passes if it, or one of its three nearest ancestors (a card round a
// link), gains an outline or a ring that is not cut off by a scrolling or clipping box round
// it; and, once scrolled to, it is not hidden under the young person's menu bar (at least
// 44 px of it shows, or all of it if it is smaller). Returns [controls checked, problems].
() => {
  const FOCUSABLE = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[tabindex]:not([tabindex="-1"]), video[controls], audio[controls]';
  const describe = el => {
    const classes = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\s+/).join('.') : '';
    const words = el.textContent || el.value || el.getAttribute('aria-label') || '';
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${classes} `
      + `"${words.trim().replace(/\s+/g, ' ').slice(0, 40)}"`;
  };
  // How far outside the element its outline and its box shadow reach, if it has either.
  const ring = el => {
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
      && !/rgba\(.*, 0\)$/.test(s.outlineColor)
      ? parseFloat(s.outlineOffset) + parseFloat(s.outlineWidth) : null;
    const lengths = [...s.boxShadow.matchAll(/(-?[\d.]+)px(?![^(]*\))/g)];
    const shadow = s.boxShadow === 'none' ? null : Math.max(0, ...lengths.map(m => +m[1]));
    return {
      key: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} ${s.outlineOffset}|${s.boxShadow}`,
      reach: Math.max(outline ?? -Infinity, shadow ?? -Infinity),
      visible: outline !== null || shadow !== null,
    };
  };
  // The box round ``el`` that cuts off a ring reaching ``reach`` px outside it, if any.
  const cutBy = (el, reach) => {
    const r = el.getBoundingClientRect();
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const s = getComputedStyle(box);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const b = box.getBoundingClientRect();
      if (r.left - reach < b.left - 1 || r.right + reach > b.right + 1
          || r.top - reach < b.top - 1 || r.bottom + reach > b.bottom + 1) return describe(box);
    }
    return null;
  };
  const bar = document.querySelector('.child-nav');
  const problems = [];
  const controls = [...document.querySelectorAll(FOCUSABLE)].filter(el => !el.disabled
    && el.checkVisibility({ visibilityProperty: true }) && !el.closest('[inert]'));
  for (const el of controls) {
    if (document.activeElement && document.activeElement !== document.body) {
      document.activeElement.blur();
    }
    const chain = [el];
    while (chain.length < 4 && chain[chain.length - 1].parentElement) {
      chain.push(chain[chain.length - 1].parentElement);
    }
    const before = chain.map(ring);
    el.focus();
    if (document.activeElement !== el) continue;  // it takes no focus after all
    if (!el.matches(':focus-visible')) {
      problems.push(`${describe(el)}: focus does not show as for the keyboard`);
      continue;
    }
    const after = chain.map(ring);
    let shown = null;
    let cut = null;
    chain.forEach((node, i) => {
      if (shown || !after[i].visible || after[i].key === before[i].key) return;
      const by = cutBy(node, after[i].reach);
      if (by) cut = cut || by;
      else shown = node;
    });
    if (!shown) {
      problems.push(`${describe(el)}: ${cut ? 'focus ring cut off by ' + cut : 'no visible focus'}`);
      continue;
    }
    if (bar && !bar.contains(el)) {
      const r = el.getBoundingClientRect();
      const top = bar.getBoundingClientRect().top;
      const showing = Math.min(r.bottom, top) - Math.max(r.top, 0);
      if (showing < Math.min(r.height, 44) - 1) problems.push(`${describe(el)}: under the menu bar`);
    }
  }
  if (document.activeElement) document.activeElement.blur();
  window.scrollTo(0, 0);
  return [controls.length, problems];
}
