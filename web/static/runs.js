// The runs page: the query, sorting, paging, grouping and the column chooser reload only the
// table (the server renders it), and the address keeps them, so a link reopens the view; the
// table follows the store live; ticked runs feed charts and compare, and can be tagged or
// deleted at once. The columns chosen last are remembered in this browser.
import { watch } from './live.js';
import { selected, setSelected, updateLinks } from './selection.js';
import { restoreCurrent } from './keys.js';

const COLUMNS = 'aelab.columns';

export function initRuns(form, box) {
  let shown = location.search; // the query string of the table on screen
  let seq = 0;
  let asked = false; // a load the user asked for (not a live refresh) is on its way
  const open = new Set(); // the groups opened, by value

  // load shows the table of a query string; history 'push' records it as a new page, 'live'
  // is a refresh by the store (the form is left alone: the user may be typing). A live refresh
  // waits for no one: while the user's own load is on its way it is dropped, since it would
  // show the old query and cancel that load (the user's load reads the store anew anyway).
  async function load(search, history) {
    if (history === 'live' && asked) return;
    const n = ++seq;
    if (history !== 'live') asked = true;
    let res;
    try {
      res = await fetch('/runs/table' + search, { headers: { Accept: 'text/html' } });
    } finally {
      if (n === seq) asked = false;
    }
    if (n !== seq) return; // a newer load started meanwhile
    if (!res.ok) {
      box.querySelector('.table-info').textContent = `could not load the runs: ${res.status} ${res.statusText}`;
      return;
    }
    box.innerHTML = await res.text();
    shown = search;
    const url = '/' + search;
    if (history === 'push') window.history.pushState(null, '', url);
    if (history === 'replace') window.history.replaceState(null, '', url);
    const params = new URLSearchParams(search);
    if (history !== 'live') syncForm(params);
    if (history === 'push' && params.has('cols')) localStorage.setItem(COLUMNS, JSON.stringify(params.getAll('col')));
    reopenGroups();
    syncTicks();
    restoreCurrent();
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
    if (form.elements.group) form.elements.group.value = params.get('group') || '';
    if (params.has('cols')) {
      const cols = new Set(params.getAll('col'));
      form.querySelectorAll('input[name=col]').forEach((cb) => { cb.checked = cols.has(cb.value); });
    }
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
    if (['col', 'size', 'deleted', 'group'].includes(e.target.name)) form.requestSubmit();
  });
  // A group opens to its runs; it stays open while the table follows the store.
  function groupValue(tbody) {
    return tbody.querySelector('.group-value')?.textContent ?? '\u0000none';
  }
  function setOpen(tbody, on) {
    tbody.querySelectorAll('tr.member').forEach((tr) => { tr.hidden = !on; });
    const b = tbody.querySelector('.group-toggle');
    b.setAttribute('aria-expanded', String(on));
    b.textContent = on ? '▾' : '▸';
  }
  function reopenGroups() {
    box.querySelectorAll('tbody.group').forEach((tb) => { if (open.has(groupValue(tb))) setOpen(tb, true); });
  }
  box.addEventListener('click', (e) => {
    const t = e.target.closest('.group-toggle');
    if (!t) return;
    const tb = t.closest('tbody.group');
    const on = t.getAttribute('aria-expanded') !== 'true';
    if (on) open.add(groupValue(tb)); else open.delete(groupValue(tb));
    setOpen(tb, on);
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

  // Bulk actions on the selected runs: POST /runs/bulk with the page's CSRF token.
  const bulk = document.getElementById('bulk');
  const status = document.getElementById('bulk-status');
  bulk?.addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = e.submitter?.value || 'tag';
    const ids = selected();
    if (ids.length === 0) return;
    if (action === 'delete' && !window.confirm(`Delete ${ids.length} run${ids.length === 1 ? '' : 's'}? (They can be restored from their pages.)`)) return;
    const body = new URLSearchParams(new FormData(bulk));
    body.set('action', action);
    ids.forEach((id) => body.append('run', id));
    const res = await fetch('/runs/bulk', {
      method: 'POST', body,
      headers: { Accept: 'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content },
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      status.textContent = answer.error || `${res.status} ${res.statusText}`;
      return;
    }
    status.textContent = `${action === 'tag' ? 'tagged' : 'deleted'} ${answer.runs} run${answer.runs === 1 ? '' : 's'}`;
    if (action === 'delete') setSelected([]);
    load(shown, 'live');
  });

  // No columns in the address: those chosen last in this browser, if any.
  const params = new URLSearchParams(location.search);
  let stored = null;
  try { stored = JSON.parse(localStorage.getItem(COLUMNS)); } catch { stored = null; }
  if (!params.has('cols') && !params.has('col') && Array.isArray(stored)) {
    params.set('cols', '1');
    stored.filter((c) => typeof c === 'string').forEach((c) => params.append('col', c));
    load('?' + params.toString(), 'replace');
  } else {
    syncTicks();
  }
  watch([], () => load(shown, 'live'));
}
