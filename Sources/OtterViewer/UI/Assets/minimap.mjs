/*
 * Otter viewer: the explorer's minimap. The whole trace drawn small on a canvas (a thin bar per span, by row, x by
 * time), the current zoom window shaded around, and a mouse drag that selects a new window.
 */
import { el } from './dom.mjs';

const MINIMAP_HEIGHT = 48;      // px, as #minimap in otter.css
const MINIMAP_MAX_BARS = 20000;

export class Minimap {
  /** `state` is the explorer's TraceState; `onWindow(from, to)` gets a dragged window (microseconds). */
  constructor(state, onWindow) {
    this.state = state;
    this.onWindow = onWindow;
    this.width = 0;                       // the width drawn; a redraw only follows a change
    this.canvas = el('canvas');
    this.window = el('div', { className: 'minimap-window', hidden: true });
    this.selection = el('div', { className: 'minimap-selection', hidden: true });
    this.element = el('div', { id: 'minimap', title: 'Drag to zoom into a time window' },
      this.canvas, this.window, this.selection);
    this.bindDrag();
  }

  /** One thin bar per span (sampled above a cap), by row, x by time. Redrawn only when the width changes. */
  draw() {
    const data = this.state.data;
    const width = this.element.clientWidth;
    if (!width || width === this.width) return;
    this.width = width;
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(MINIMAP_HEIGHT * ratio);
    const context = canvas.getContext('2d');
    if (!context) return;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const step = Math.max(1, Math.ceil(data.n / MINIMAP_MAX_BARS));
    const rowHeight = (MINIMAP_HEIGHT - 2) / Math.max(1, Math.ceil(data.n / step));
    const barHeight = Math.max(1, Math.min(rowHeight > 3 ? rowHeight - 1 : rowHeight, 6));
    const scale = width / data.total;
    let color = '';
    for (let k = 0, i = 0; i < data.n; k++, i += step) {
      if (data.spanService[i].color !== color) context.fillStyle = color = data.spanService[i].color;
      context.fillRect(data.start[i] * scale, 1 + k * rowHeight, Math.max(1, data.duration[i] * scale), barHeight);
    }
  }

  /** Shows the zoom window over the trace (hidden when it is the whole trace). */
  updateWindow() {
    const { viewStart, viewEnd, data } = this.state;
    this.window.hidden = !this.state.zoomed;
    this.window.style.left = (viewStart / data.total * 100) + '%';
    this.window.style.width = ((viewEnd - viewStart) / data.total * 100) + '%';
  }

  /** Mouse drag on the minimap selects the window [t0, t1]. */
  bindDrag() {
    let origin = -1;
    let rect = null;
    const position = (event) => Math.min(Math.max(event.clientX - rect.left, 0), rect.width);
    const minimap = this.element;
    const selection = this.selection;
    minimap.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      rect = minimap.getBoundingClientRect();
      if (!rect.width) return;
      origin = position(event);
      try { minimap.setPointerCapture(event.pointerId); } catch (_) { /* synthetic events */ }
      selection.style.left = origin + 'px';
      selection.style.width = '0px';
      selection.hidden = false;
      event.preventDefault();
    });
    minimap.addEventListener('pointermove', (event) => {
      if (origin < 0) return;
      const x = position(event);
      selection.style.left = Math.min(x, origin) + 'px';
      selection.style.width = Math.abs(x - origin) + 'px';
    });
    const finish = (event, apply) => {
      if (origin < 0) return;
      const x = position(event);
      const from = origin;
      origin = -1;
      selection.hidden = true;
      if (!apply || Math.abs(x - from) < 3) return;   // a click, not a drag
      const scale = this.state.data.total / rect.width;
      this.onWindow(Math.min(x, from) * scale, Math.max(x, from) * scale);
    };
    minimap.addEventListener('pointerup', (event) => finish(event, true));
    minimap.addEventListener('pointercancel', (event) => finish(event, false));
  }
}
