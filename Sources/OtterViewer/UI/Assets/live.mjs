/*
 * Otter viewer: a checkbox that keeps a page live (the search page's "Live", the logs page's tail). While it is
 * checked and the tab is visible, `update` runs every `intervalMs`, one at a time; a status line after the checkbox
 * says when the page was last updated or why it failed; unchecking aborts a request in flight.
 */

/**
 * Starts nothing by itself: returns `{ poll, schedule, stop }`. `update(signal)` does one round and returns the status
 * text to show (or nothing to leave it); a thrown error (other than an abort) is shown after `failure`.
 */
export function livePoller(checkbox, intervalMs, update, { failure, statusID }) {
  const status = document.createElement('span');
  status.className = 'muted live-status';
  if (statusID) status.id = statusID;
  status.setAttribute('aria-live', 'polite');
  (checkbox.closest('label') || checkbox).after(status);
  let timer = 0;
  let controller = null;

  const schedule = () => {
    if (checkbox.checked && !timer) timer = setTimeout(poll, intervalMs);
  };

  const stop = () => {
    clearTimeout(timer);
    timer = 0;
    if (controller) controller.abort();
    controller = null;
    status.textContent = '';
  };

  async function poll() {
    timer = 0;
    if (!checkbox.checked) return;
    if (document.hidden) {   // no polling in a background tab
      schedule();
      return;
    }
    controller = new AbortController();
    try {
      const said = await update(controller.signal);
      if (said) status.textContent = said;
    } catch (error) {
      if (error.name === 'AbortError') return;
      status.textContent = `${failure} (${error.message})`;
    }
    controller = null;
    schedule();
  }

  return { poll, schedule, stop };
}
