/*
 * Otter viewer: the explorer's keyboard, when focus is not in a text field. j/k and ↓/↑ move the selection, ←
 * collapses (or goes to the parent), → expands, / goes to the find box, n and N jump to the next and previous match,
 * Esc clears the selection. Row keys do nothing in the Statistics and Logs views.
 */
import { isEditable } from './dom.mjs';

/** Handles a keydown on the document for `explorer` (explorer.mjs). */
export function handleKey(explorer, event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isEditable(event.target) || !explorer.root.isConnected) return;
  const state = explorer.state;
  const key = event.key;
  const i = state.selected;
  if (key === '/') {
    event.preventDefault();
    explorer.toolbar.focusFind();
  } else if (key === 'Escape') {
    if (i >= 0) explorer.select(-1);
  } else if (key === 'n' || key === 'N') {
    explorer.jumpToMatch(key === 'N' ? -1 : 1);
  } else if (state.view === 'statistics' || state.view === 'logs') {
    // no row navigation in the statistics and logs tables
  } else if (key === 'ArrowDown' || key === 'j' || key === 'ArrowUp' || key === 'k') {
    event.preventDefault();
    explorer.moveSelection(key === 'ArrowDown' || key === 'j' ? 1 : -1);
  } else if (key === 'ArrowLeft' && i >= 0) {
    event.preventDefault();
    if (state.hasChildren(i) && !state.collapsed[i]) explorer.toggle(i);
    else if (state.data.parent[i] >= 0) explorer.select(state.data.parent[i]);
  } else if (key === 'ArrowRight' && i >= 0) {
    event.preventDefault();
    if (state.collapsed[i]) explorer.toggle(i);
  }
}
