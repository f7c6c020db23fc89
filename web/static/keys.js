// Keyboard shortcuts and the theme, on every page: / focuses the query, j/k move in the runs
// table, Enter opens the run (or a group), x selects it, o opens a group, t switches the theme,
// ? lists the shortcuts.
const THEME = 'aelab.theme';

// applyTheme sets the theme the user chose ('dark', 'light'), or none: the system's.
function applyTheme(theme) {
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const button = document.getElementById('theme-toggle');
  if (button) button.textContent = currentTheme() === 'dark' ? 'light theme' : 'dark theme';
}

function currentTheme() {
  return document.documentElement.dataset.theme ||
    (window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}

export function toggleTheme() {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME, next);
  applyTheme(next);
}

// The rows j and k move through: runs shown and group rows.
function rows() {
  return [...document.querySelectorAll('table.runs tbody tr[data-run]:not([hidden]), table.runs tbody tr.group-row')];
}

let current = null; // the data-run id or group index of the row marked current

function keyOf(tr) {
  return tr.dataset.run ? 'run:' + tr.dataset.run : 'group:' + tr.closest('tbody').dataset.group;
}

// markCurrent marks the row current (after a table reload, the same run or group again).
export function markCurrent(tr) {
  document.querySelectorAll('table.runs tr.current').forEach((r) => r.classList.remove('current'));
  if (!tr) return;
  tr.classList.add('current');
  current = keyOf(tr);
  tr.scrollIntoView({ block: 'nearest' });
}

export function restoreCurrent() {
  if (!current) return;
  const tr = rows().find((r) => keyOf(r) === current);
  if (tr) tr.classList.add('current');
}

function move(step) {
  const all = rows();
  if (all.length === 0) return;
  const at = all.findIndex((r) => r.classList.contains('current'));
  const next = at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, at + step));
  markCurrent(all[next]);
}

function typing(el) {
  return el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

export function initKeys() {
  applyTheme(localStorage.getItem(THEME));
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(localStorage.getItem(THEME)));
  document.getElementById('theme-toggle')?.addEventListener('click', toggleTheme);
  const dialog = document.getElementById('shortcuts');
  document.getElementById('shortcuts-open')?.addEventListener('click', () => dialog?.showModal());

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    if (dialog?.open) return; // the dialog closes itself on Esc
    const tr = document.querySelector('table.runs tr.current');
    switch (e.key) {
      case '/': {
        const q = document.getElementById('q');
        if (!q) return;
        e.preventDefault();
        q.focus();
        q.select();
        return;
      }
      case '?':
        e.preventDefault();
        dialog?.showModal();
        return;
      case 't':
        toggleTheme();
        return;
      case 'j':
      case 'k':
        e.preventDefault();
        move(e.key === 'j' ? 1 : -1);
        return;
      case 'Enter':
        if (!tr) return;
        e.preventDefault();
        if (tr.classList.contains('group-row')) tr.querySelector('.group-toggle')?.click();
        else location.href = tr.querySelector('td.name a').href;
        return;
      case 'x':
        tr?.querySelector('input.select-run')?.click();
        return;
      case 'o':
        (tr?.classList.contains('group-row') ? tr : tr?.closest('tbody.group')?.querySelector('tr.group-row'))?.querySelector('.group-toggle')?.click();
    }
  });
}
