// Everything on the page that would move: a transition, an animation (on an element or its
// ::before and ::after), smooth scrolling, and a probe made to move after the page loaded
// (so that something added later is stopped too). Returns what moves.
() => {
  const probe = document.createElement('div');
  probe.style.transition = 'opacity 2s ease';
  probe.style.animation = 'memorybox-probe 3s infinite';
  document.body.append(probe);
  const seconds = value => Math.max(...value.split(',').map(v => (
    v.trim().endsWith('ms') ? parseFloat(v) / 1000 : parseFloat(v))));
  const moving = [];
  for (const el of document.querySelectorAll('*')) {
    for (const pseudo of [null, '::before', '::after']) {
      const s = getComputedStyle(el, pseudo);
      const transition = seconds(s.transitionDuration) + seconds(s.transitionDelay);
      const times = s.animationIterationCount === 'infinite'
        ? Infinity : Math.max(...s.animationIterationCount.split(',').map(parseFloat));
      const animation = s.animationName === 'none'
        ? 0 : (seconds(s.animationDuration) + seconds(s.animationDelay)) * times;
      if (transition > 0.001 || animation > 0.001) {
        moving.push(el.tagName.toLowerCase() + (pseudo || '') + '.' + el.className);
      }
    }
  }
  probe.remove();
  return {
    moving: [...new Set(moving)],
    scroll: getComputedStyle(document.documentElement).scrollBehavior,
    running: document.getAnimations().filter(a => a.playState === 'running').length,
  };
}
