/*
 * Otter viewer: the search page's script (/search).
 *  - Compare: the "Compare selected" button is enabled only when exactly two traces are picked.
 *  - Live: while #live is checked, the results are refetched every 3 s (same URL) and swapped in,
 *    keeping the compare picks. The state is kept in the URL (live=1) so it deep-links.
 *  - The operation picker follows the service.
 * The page works without this script; the server checks the compare count itself.
 */
import { setUrlParams, urlParam } from './dom.mjs';
import { livePoller } from './live.mjs';

const POLL_MS = 3000;

// ---------------------------------------------------------------------------
// Compare picks

function pickBoxes() {
  return Array.from(document.querySelectorAll('#results input.compare-pick'));
}

function updateCompare() {
  const boxes = pickBoxes();
  const picked = boxes.filter((box) => box.checked).length;
  for (const box of boxes) box.disabled = picked >= 2 && !box.checked;
  const button = document.getElementById('compare-button');
  if (button) button.disabled = picked !== 2;
}

// Delegated: #results is replaced by live updates.
document.addEventListener('change', (event) => {
  if (event.target instanceof HTMLInputElement && event.target.classList.contains('compare-pick')) updateCompare();
});

// ---------------------------------------------------------------------------
// Live refresh

function initLive(live) {
  const { poll, schedule, stop } = livePoller(live, POLL_MS, async (signal) => {
    const response = await fetch(location.href, { signal, cache: 'no-store', headers: { Accept: 'text/html' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const html = await response.text();
    const fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('results');
    const current = document.getElementById('results');
    if (!fresh || !current || !live.checked) return null;
    const picked = new Set(pickBoxes().filter((box) => box.checked).map((box) => box.value));
    const adopted = document.adoptNode(fresh);
    for (const box of adopted.querySelectorAll('input.compare-pick')) box.checked = picked.has(box.value);
    current.replaceWith(adopted);
    updateCompare();
    return `Updated ${new Date().toLocaleTimeString()}`;
  }, { failure: 'Live update failed' });

  live.addEventListener('change', () => {
    setUrlParams({ live: live.checked ? '1' : null });
    if (live.checked) poll();
    else stop();
  });

  if (urlParam('live') === '1') {
    live.checked = true;
    schedule();
  }
}

// ---------------------------------------------------------------------------
// Operation picker: follows the service (Jaeger's /api/services/{service}/operations)

function initOperations() {
  const service = document.querySelector('form.search select[name="service"]');
  const operation = document.querySelector('form.search select[name="operation"]');
  if (!service || !operation) return;
  service.addEventListener('change', async () => {
    let names = [];
    try {
      const response = await fetch('/api/services/' + encodeURIComponent(service.value) + '/operations');
      if (response.ok) names = (await response.json()).data || [];
    } catch (error) {
      return;
    }
    operation.replaceChildren();
    const all = document.createElement('option');
    all.value = '';
    all.textContent = 'all';
    operation.append(all);
    for (const name of names) {
      const option = document.createElement('option');
      option.value = String(name);
      option.textContent = String(name);
      operation.append(option);
    }
  });
}

// ---------------------------------------------------------------------------
// Boot

function boot() {
  updateCompare();
  initOperations();
  const live = document.getElementById('live');
  if (live) initLive(live);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
