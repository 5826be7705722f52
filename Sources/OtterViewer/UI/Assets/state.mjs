/*
 * Otter viewer: the trace explorer's state, shared by its views. Which spans are collapsed and which rows are
 * visible, the selection, the current view, the zoom window and the find matches, with the rules that change them
 * (a collapse hides a subtree, a window is clamped to the trace, the next match wraps around).
 *
 * No DOM: the explorer (explorer.mjs) applies each change to the page; Node's test runner imports this module.
 */
import { buildHaystacks, findMatches, nextPosition } from './find.mjs';
import { text } from './format.mjs';
import { clampWindow } from './model.mjs';

/** The explorer's views and their tabs' labels. */
export const VIEWS = { timeline: 'Timeline', flamegraph: 'Flamegraph', statistics: 'Statistics', logs: 'Logs' };

export class TraceState {
  /** `data` is a prepared trace model (model.mjs `prepare`), `logs` its records (logs.mjs `prepareLogs`). */
  constructor(data, logs) {
    this.data = data;
    this.logs = logs;
    const n = data.n;
    this.collapsed = new Uint8Array(n);
    this.visible = new Int32Array(n);     // span index per visible row
    this.rowOf = new Int32Array(n);       // visible row per span, -1 when hidden
    this.visibleCount = 0;
    this.selected = -1;
    this.view = 'timeline';
    this.viewStart = 0;
    this.viewEnd = data.total;
    this.haystacks = null;                // built on the first find
    this.matches = null;                  // Uint8Array of match flags, null without a query
    this.matchCount = 0;
  }

  hasChildren(i) {
    return this.data.subtreeEnd[i] > i + 1;
  }

  /** Rebuilds the visible-row arrays after a collapse change (O(spans)); returns the number of visible rows. */
  recomputeVisible() {
    const { n, subtreeEnd } = this.data;
    this.rowOf.fill(-1);
    let count = 0;
    for (let i = 0; i < n; i = this.collapsed[i] ? subtreeEnd[i] : i + 1) {
      this.visible[count] = i;
      this.rowOf[i] = count++;
    }
    this.visibleCount = count;
    return count;
  }

  /** Collapses every span with children; returns the root of the selection's tree (-1 without a selection). */
  collapseAll() {
    for (let i = 0; i < this.data.n; i++) this.collapsed[i] = this.hasChildren(i) ? 1 : 0;
    let top = this.selected;
    while (top >= 0 && this.data.parent[top] >= 0) top = this.data.parent[top];
    return top;
  }

  /** Expands the collapsed ancestors of span i; returns whether any was collapsed. */
  expandAncestors(i) {
    let changed = false;
    for (let p = this.data.parent[i]; p >= 0; p = this.data.parent[p]) {
      if (this.collapsed[p]) {
        this.collapsed[p] = 0;
        changed = true;
      }
    }
    return changed;
  }

  /** The row of the selection, or of its nearest visible ancestor; -1 without a selection. */
  selectedRow() {
    for (let i = this.selected; i >= 0; i = this.data.parent[i]) {
      if (this.rowOf[i] >= 0) return this.rowOf[i];
    }
    return -1;
  }

  /** The span of the row `step` rows from the selection (clamped), or of the first (last) row; -1 without rows. */
  spanAfterSelection(step) {
    if (this.visibleCount === 0) return -1;
    const current = this.selectedRow();
    const row = current < 0 ? (step > 0 ? 0 : this.visibleCount - 1)
      : Math.min(this.visibleCount - 1, Math.max(0, current + step));
    return this.visible[row];
  }

  /** Sets the zoom window (clamped to the trace); returns whether it is the whole trace. */
  setWindow(from, to) {
    const { start, end, full } = clampWindow(from, to, this.data.total);
    this.viewStart = start;
    this.viewEnd = end;
    return full;
  }

  get zoomed() {
    return this.viewStart > 0 || this.viewEnd < this.data.total;
  }

  /** Marks the spans matching a find query (find.mjs); returns the trimmed, lower-cased query. */
  find(value) {
    const query = text(value).trim();
    if (query && !this.haystacks) this.haystacks = buildHaystacks(this.data);
    const found = findMatches(this.haystacks || [], value);
    this.matches = found.matches;
    this.matchCount = found.count;
    return found.query;
  }

  /** Marks the spans with these ids as the matches (the server's find in a big trace). */
  setMatches(spanIDs) {
    const wanted = new Set(spanIDs);
    this.matches = new Uint8Array(this.data.n);
    let count = 0;
    for (let i = 0; i < this.data.n; i++) {
      if (wanted.has(this.data.spans[i].spanID)) {
        this.matches[i] = 1;
        count++;
      }
    }
    this.matchCount = count;
  }

  /**
   * The next (1) or previous (-1) match from the selection: a visible one when there is one (`{ index, hidden:
   * false }`), else one in a collapsed subtree (`hidden: true`); null without matches.
   */
  nextMatch(step) {
    if (!this.matchCount) return null;
    const matches = this.matches;
    const row = nextPosition(this.selectedRow(), this.visibleCount, step, (r) => matches[this.visible[r]] === 1);
    if (row >= 0) return { index: this.visible[row], hidden: false };
    const i = nextPosition(this.selected, this.data.n, step, (s) => matches[s] === 1);
    return i >= 0 ? { index: i, hidden: true } : null;
  }
}
