/*
 * Otter viewer: the trace page's script (/trace/{id}). Reads the trace model the page embeds (the one the server drew
 * the static waterfall from: the store is read once per page), loads the trace's log records, then swaps the static
 * waterfall for the explorer (explorer.mjs). Without it, or when the model cannot be read, the static page stays.
 */
import { el } from './dom.mjs';
import { Explorer } from './explorer.mjs';
import { HEX, text } from './format.mjs';
import { LOG_LIMIT } from './logs.mjs';

/** The trace's log records (OTLP/JSON); none when the viewer keeps no logs (404) or the request fails. */
async function fetchLogs(traceID) {
  try {
    const response = await fetch(`/api/otter/logs?traceID=${traceID}&limit=${LOG_LIMIT}`, { headers: { Accept: 'application/json' } });
    return response.ok ? await response.json() : null;
  } catch (_) {
    return null;
  }
}

async function initTracePage(page) {
  const traceID = text(page.dataset.traceId).toLowerCase();
  if (!HEX.test(traceID)) return;
  let model;
  const logs = fetchLogs(traceID);
  try {
    model = JSON.parse(document.getElementById('trace-model')?.textContent ?? 'null');
  } catch (_) {
    return;   // the static page stays
  }
  const outlined = model && model.outline && Array.isArray(model.outline.parentIndex) && model.outline.parentIndex.length > 0;
  if (!model || (!outlined && (!Array.isArray(model.spans) || model.spans.length === 0))) return;

  const staticTrace = document.getElementById('static-trace');
  let root = document.getElementById('explorer');
  if (!root) {
    root = el('div', { id: 'explorer' });
    if (staticTrace) staticTrace.after(root);
    else page.append(root);
  }
  // Hidden first, so building the explorer never lays out the static waterfall.
  if (staticTrace) staticTrace.hidden = true;
  try {
    new Explorer(root, model, { logs: await logs });
  } catch (error) {
    root.replaceChildren();
    if (staticTrace) staticTrace.hidden = false;
    console.error('otter: explorer failed', error);
  }
}

function boot() {
  const page = document.getElementById('trace-page');
  if (page) initTracePage(page);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
