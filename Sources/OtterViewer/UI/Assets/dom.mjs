/*
 * Otter viewer: DOM helpers shared by the pages' scripts. Elements built from properties (never from markup),
 * buttons, colour swatches, key/value tables, the URL state kept with history.replaceState, and copying to the
 * clipboard.
 *
 * Every string the pages show from spans or log records is untrusted: it only reaches the page through these helpers'
 * textContent, text nodes or attributes.
 */
import { text } from './format.mjs';

/**
 * Creates an element. `props` are DOM properties set by code (className, id, textContent, type,
 * title, hidden, ...), never markup; `children` are nodes or strings (appended as text).
 */
export function el(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function button(label, props) {
  return el('button', Object.assign({ type: 'button', textContent: label }, props));
}

/** A small square of a service's colour. */
export function swatch(color) {
  const node = el('span', { className: 'swatch' });
  node.style.background = color;
  return node;
}

/** A two-column key/value table of `[[key, value], ...]`. */
export function keyValueTable(className, pairs) {
  const list = Array.isArray(pairs) ? pairs : [];
  const rows = list.map((pair) => el('tr', null,
    el('td', { className: 'key', textContent: text(pair && pair[0]) }),
    el('td', { className: 'value', textContent: text(pair && pair[1]) })));
  if (rows.length === 0) rows.push(el('tr', null, el('td', { className: 'muted', colSpan: 2, textContent: 'none' })));
  return el('table', { className }, el('tbody', null, ...rows));
}

/** Whether keys typed at `target` are text (keyboard shortcuts leave them alone). */
export function isEditable(target) {
  return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

// ---------------------------------------------------------------------------
// URL state (the explorer's view, uiFind, span, from, to; live and tail), kept with history.replaceState

export function urlParam(name) {
  return new URLSearchParams(location.search).get(name);
}

/** Sets the page URL's parameters; null, undefined or '' removes one. */
export function setUrlParams(values) {
  const url = new URL(location.href);
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === '') url.searchParams.delete(key);
    else url.searchParams.set(key, String(value));
  }
  try {
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  } catch (_) {
    // Some contexts (sandboxed frames, rate limits) refuse; the state just is not kept.
  }
}

// ---------------------------------------------------------------------------
// Clipboard

/** Copies `value`; the button `target` says `Copied` (or `Copy failed`) for a moment. */
export function copyText(value, target) {
  const done = (ok) => {
    target.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { target.textContent = 'Copy'; }, 1500);
  };
  const fallback = () => {
    const area = el('textarea', { value, readOnly: true });
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
    area.remove();
    done(ok);
  };
  if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(value).then(() => done(true), fallback);
  else fallback();
}
