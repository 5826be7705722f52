/*
 * Otter viewer: the explorer's Flamegraph view. One lane per depth, each span a node across its time in the zoom
 * window. A click selects a span; a double-click shows that span's subtree only (across the whole width, from its
 * own depth, so lanes deeper than the clip are reachable), and the note's button shows the whole trace again.
 */
import { button, el } from './dom.mjs';
import { formatDuration, text } from './format.mjs';
import { barGeometry } from './model.mjs';

const FLAME_LANE_HEIGHT = 20;   // px, as .flame-node in otter.css
const FLAME_MAX_DEPTH = 60;     // deeper lanes are clipped

export class Flamegraph {
  /** `state` is the explorer's TraceState; `select(i)` selects a clicked span (revealing it in the timeline). */
  constructor(state, select) {
    this.state = state;
    this.nodes = null;                    // span index -> flame node
    this.dirty = true;
    this.root = -1;                       // the span whose subtree is shown, -1 for the whole trace
    this.note = el('p', { className: 'muted flame-note', hidden: true });
    this.element = el('div', { id: 'flamegraph' });
    this.view = el('div', { className: 'flamegraph-view' }, this.note, this.element);

    this.element.addEventListener('click', (event) => {
      const node = event.target.closest('.flame-node');
      if (node) select(Number(node.dataset.index));
    });
    this.element.addEventListener('dblclick', (event) => {
      const node = event.target.closest('.flame-node');
      if (node) this.focus(Number(node.dataset.index));
    });
    this.note.addEventListener('click', (event) => {
      if (event.target.closest('.flame-unfocus')) this.focus(-1);
    });
  }

  /** Shows the subtree of span `i` only (-1: the whole trace) and redraws. */
  focus(i) {
    this.root = i >= 0 && i < this.state.data.n ? i : -1;
    document.querySelector('#explorer').dataset.flameRoot = String(this.root);
    this.render();
  }

  /**
   * One lane per depth; only nodes at least 1px wide in the window are rendered. Focused on a span (double-click),
   * the graph holds its subtree only, its duration across the whole width and its depth as the top lane.
   */
  render() {
    const state = this.state;
    const data = state.data;
    const width = this.element.clientWidth;
    if (!width) return;
    const root = this.root >= 0 ? this.root : -1;
    const from = root >= 0 ? root : 0;
    const to = root >= 0 ? data.subtreeEnd[root] : data.n;
    const baseDepth = root >= 0 ? data.depth[root] : 0;
    const viewStart = root >= 0 ? data.start[root] : state.viewStart;
    const viewEnd = root >= 0 ? data.start[root] + data.duration[root] : state.viewEnd;
    const scale = width / ((viewEnd - viewStart) || 1);
    const fragment = document.createDocumentFragment();
    const nodes = new Map();
    let deepest = 0;
    let clipped = 0;
    for (let i = from; i < to; i++) {
      const depth = data.depth[i] - baseDepth;
      if (depth > FLAME_MAX_DEPTH) {
        clipped++;
        continue;
      }
      const bar = barGeometry(data, i, viewStart, viewEnd);
      if (!bar || (bar.end - bar.start) * scale < 1) continue;
      const span = data.spans[i];
      const service = data.spanService[i];
      const node = el('div', {
        className: 'flame-node', textContent: text(span.name),
        title: `${service.name} ${text(span.name)} ${formatDuration(data.duration[i])}`,
      });
      node.dataset.spanId = text(span.spanID);
      node.dataset.index = String(i);
      node.style.left = bar.left + '%';
      node.style.width = bar.width + '%';
      node.style.top = (depth * FLAME_LANE_HEIGHT) + 'px';
      node.style.background = service.color;
      if (span.error) node.classList.add('failed');
      if (i === state.selected) node.classList.add('selected');
      if (state.matches && state.matches[i]) node.classList.add('match');
      nodes.set(i, node);
      fragment.append(node);
      deepest = Math.max(deepest, depth);
    }
    this.element.style.height = ((deepest + 1) * FLAME_LANE_HEIGHT) + 'px';
    this.element.replaceChildren(fragment);
    this.nodes = nodes;
    const notes = [];
    if (root >= 0) {
      notes.push(document.createTextNode(`Showing the subtree of ${text(data.spans[root].name)} only. `),
        button('Show the whole trace', { className: 'flame-unfocus' }), document.createTextNode(' '));
    }
    if (clipped) {
      notes.push(document.createTextNode(
        `${clipped} spans more than ${FLAME_MAX_DEPTH} levels below the top lane are not shown: double-click a span to see its subtree.`));
    }
    this.note.replaceChildren(...notes);
    this.note.hidden = notes.length === 0;
    this.dirty = false;
  }
}
