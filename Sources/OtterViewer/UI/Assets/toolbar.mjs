/*
 * Otter viewer: the explorer's toolbar and header. The view tabs, collapse and expand all, the critical-path toggle,
 * the find box (debounced while typing; Enter jumps to the next match, Shift+Enter the previous) and reset zoom;
 * the legend of services; the summary line the upload page shows above a trace.
 */
import { button, el, swatch } from './dom.mjs';
import { HEX, formatDuration, text } from './format.mjs';
import { VIEWS } from './state.mjs';

const FIND_DEBOUNCE_MS = 120;

export class Toolbar {
  /**
   * `hasLogs`: whether the Logs tab is shown. `actions`: `setView(view)`, `collapseAll()`, `expandAll()`,
   * `showCritical(on)`, `resetZoom()`, `find(value)` and `jump(step)` (to the next (1) or previous (-1) match).
   */
  constructor(hasLogs, actions) {
    this.findTimer = 0;
    this.tabs = {};
    for (const [view, label] of Object.entries(VIEWS)) {
      this.tabs[view] = button(label);
      this.tabs[view].dataset.view = view;
      this.tabs[view].setAttribute('role', 'tab');
    }
    // No records, no Logs tab.
    this.tabs.logs.hidden = !hasLogs;
    const collapseAll = button('Collapse all', { id: 'collapse-all' });
    const expandAll = button('Expand all', { id: 'expand-all' });
    const critical = el('input', { type: 'checkbox', id: 'critical-path-toggle', checked: true });
    this.findInput = el('input', { type: 'text', id: 'find-input', placeholder: 'Find in trace\u2026', autocomplete: 'off' });
    this.findInput.setAttribute('aria-label', 'Find in trace');
    this.findCount = el('span', { id: 'find-count', className: 'muted' });
    this.findCount.setAttribute('aria-live', 'polite');
    const resetZoom = button('Reset zoom', { id: 'reset-zoom' });
    this.element = el('div', { className: 'explorer-toolbar' },
      el('div', { className: 'view-tabs' }, ...Object.values(this.tabs)),
      collapseAll, expandAll,
      el('label', { className: 'critical-toggle' }, critical, ' Critical path'),
      el('div', { className: 'find' }, this.findInput, this.findCount),
      resetZoom);

    for (const view of Object.keys(VIEWS)) this.tabs[view].addEventListener('click', () => actions.setView(view));
    collapseAll.addEventListener('click', () => actions.collapseAll());
    expandAll.addEventListener('click', () => actions.expandAll());
    critical.addEventListener('change', () => actions.showCritical(critical.checked));
    resetZoom.addEventListener('click', () => actions.resetZoom());
    this.findInput.addEventListener('input', () => {
      clearTimeout(this.findTimer);
      this.findTimer = setTimeout(() => actions.find(this.findInput.value), FIND_DEBOUNCE_MS);
    });
    this.findInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        clearTimeout(this.findTimer);
        actions.find(this.findInput.value);
        actions.jump(event.shiftKey ? -1 : 1);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        this.findInput.blur();
      }
    });
  }

  destroy() {
    clearTimeout(this.findTimer);
  }

  /** Whether `view` has a tab shown (the Logs tab is hidden without records). */
  offers(view) {
    return Object.keys(VIEWS).includes(view) && !this.tabs[view].hidden;
  }

  /** Marks the tab of the current view. */
  showView(view) {
    for (const [name, tab] of Object.entries(this.tabs)) {
      tab.classList.toggle('active', name === view);
      tab.setAttribute('aria-selected', String(name === view));
    }
  }

  /** Puts the cursor in the find box, its text selected (the `/` key). */
  focusFind() {
    this.findInput.focus();
    this.findInput.select();
  }
}

/** The services with their colours. */
export function legend(services) {
  return el('div', { className: 'legend' }, ...services.map((service) =>
    el('span', { className: 'service-chip' }, swatch(service.color), el('span', { className: 'service', textContent: service.name }))));
}

/** The trace's root, id, span count and duration (the upload page has no server-rendered header). */
export function summary(data) {
  const model = data.model;
  const id = HEX.test(text(model.traceID)) ? model.traceID : '';
  return el('div', { className: 'explorer-summary' },
    el('h2', { textContent: `${text(model.rootService)}: ${text(model.rootName)}` }),
    el('p', { className: 'muted', textContent: `Trace ${id} \u00b7 ${data.n} spans \u00b7 ${formatDuration(data.total)}` }));
}
