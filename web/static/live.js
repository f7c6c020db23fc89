// Live updates: the server sends a "change" event whenever the store (or the watched runs)
// changed, whoever wrote it; its first event carries the current version and is not a change.
// One event stream per set of runs and page: a browser keeps only a few connections per
// server, and every open tab holds its streams.
const streams = new Map();

// watch calls onChange after every change of the runs (all runs when ids is empty).
export function watch(ids, onChange) {
  const params = new URLSearchParams();
  ids.forEach((id) => params.append('run', id));
  const url = '/api/events' + (ids.length ? '?' + params : '');
  let stream = streams.get(url);
  if (!stream) {
    stream = { source: new EventSource(url), listeners: new Set(), version: null };
    stream.source.addEventListener('change', (ev) => {
      const changed = stream.version !== null && ev.data !== stream.version;
      stream.version = ev.data;
      if (changed) stream.listeners.forEach((f) => f());
    });
    streams.set(url, stream);
  }
  stream.listeners.add(onChange);
  return {
    close() {
      stream.listeners.delete(onChange);
      if (stream.listeners.size === 0) {
        stream.source.close();
        streams.delete(url);
      }
    },
  };
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
