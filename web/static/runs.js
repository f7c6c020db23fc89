// The runs page: the query, sorting, paging and the column chooser reload only the table (the
// server renders it); the table follows the store live; ticked runs feed charts and compare.
import { watch } from './live.js';
import { selected, setSelected, updateLinks } from './selection.js';

export function initRuns(form, box) {
  let shown = location.search; // the query string of the table on screen
  let seq = 0;

  // load shows the table of a query string; history 'push' records it as a new page, 'live'
  // is a refresh by the store (the form is left alone: the user may be typing).
  async function load(search, history) {
    const n = ++seq;
    const res = await fetch('/runs/table' + search, { headers: { Accept: 'text/html' } });
    if (n !== seq) return; // a newer load started meanwhile
    if (!res.ok) {
      box.querySelector('.table-info').textContent = `could not load the runs: ${res.status} ${res.statusText}`;
      return;
    }
    box.innerHTML = await res.text();
    shown = search;
    const url = '/' + search;
    if (history === 'push') window.history.pushState(null, '', url);
    if (history !== 'live') syncForm(new URLSearchParams(search));
    syncTicks();
  }

  // The form's hidden order follows the table (sorting happens by links).
  function syncForm(params) {
    form.elements.q.value = params.get('q') || '';
    let order = form.querySelector('input[name=order]');
    if (!order) {
      order = Object.assign(document.createElement('input'), { type: 'hidden', name: 'order' });
      form.append(order);
    }
    order.value = params.get('order') || '';
  }

  function searchOf(params) {
    for (const k of [...params.keys()]) if (params.get(k) === '' && k !== 'col') params.delete(k);
    params.delete('page');
    const s = params.toString();
    return s ? '?' + s : '';
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load(searchOf(new URLSearchParams(new FormData(form))), 'push');
  });
  form.addEventListener('change', (e) => {
    if (['col', 'size', 'deleted'].includes(e.target.name)) form.requestSubmit();
  });
  box.addEventListener('click', (e) => {
    const a = e.target.closest('th.sortable a, .pager a');
    if (!a) return;
    e.preventDefault();
    load(new URL(a.href).search, 'push');
  });
  window.addEventListener('popstate', () => load(location.search));

  function syncTicks() {
    const ids = new Set(selected());
    const boxes = [...box.querySelectorAll('input.select-run')];
    boxes.forEach((cb) => { cb.checked = ids.has(cb.value); });
    const all = box.querySelector('#select-page');
    if (all) all.checked = boxes.length > 0 && boxes.every((cb) => cb.checked);
    updateLinks();
  }
  box.addEventListener('change', (e) => {
    const ids = new Set(selected());
    const boxes = e.target.id === 'select-page' ? [...box.querySelectorAll('input.select-run')] : [e.target];
    if (e.target.id === 'select-page') boxes.forEach((cb) => { cb.checked = e.target.checked; });
    boxes.forEach((cb) => { if (cb.checked) ids.add(cb.value); else ids.delete(cb.value); });
    setSelected([...ids]);
    syncTicks();
  });
  document.getElementById('selection-clear').addEventListener('click', () => { setSelected([]); syncTicks(); });

  syncTicks();
  watch([], () => load(shown, 'live'));
}
