// Live updates: the server sends a "change" event whenever the store (or the watched runs)
// changed, whoever wrote it; its first event carries the current version and is not a change.

// watch calls onChange after every change of the runs (all runs when ids is empty).
export function watch(ids, onChange) {
  const params = new URLSearchParams();
  ids.forEach((id) => params.append('run', id));
  const source = new EventSource('/api/events' + (ids.length ? '?' + params : ''));
  let version = null;
  source.addEventListener('change', (ev) => {
    if (version !== null && ev.data !== version) onChange();
    version = ev.data;
  });
  return source;
}

// swapParts replaces every [data-live-part] element of root with the same part of html.
export function swapParts(root, html) {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  root.querySelectorAll('[data-live-part]').forEach((el) => {
    const fresh = doc.querySelector(`[data-live-part="${el.dataset.livePart}"]`);
    if (fresh && fresh.innerHTML !== el.innerHTML) el.innerHTML = fresh.innerHTML;
  });
  return doc;
}
