// The runs ticked on the runs page, kept in the browser across pages and reloads.
const KEY = 'aelab.selection';

export function selected() {
  try {
    const ids = JSON.parse(localStorage.getItem(KEY));
    return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

export function setSelected(ids) {
  localStorage.setItem(KEY, JSON.stringify([...new Set(ids)]));
  updateLinks();
}

// runsQuery is "run=ID&run=ID…".
export function runsQuery(ids) {
  const p = new URLSearchParams();
  ids.forEach((id) => p.append('run', id));
  return p.toString();
}

// updateLinks points every [data-selection] and [data-go] link at the selected runs.
export function updateLinks() {
  const ids = selected();
  document.querySelectorAll('a[data-selection], a[data-go]').forEach((a) => {
    const page = a.dataset.selection || a.dataset.go;
    a.href = '/' + page + (ids.length ? '?' + runsQuery(ids) : '');
  });
  const bar = document.getElementById('selection-bar');
  if (bar) {
    bar.hidden = ids.length === 0;
    document.getElementById('selection-count').textContent =
      ids.length === 1 ? '1 run selected' : `${ids.length} runs selected`;
  }
}
