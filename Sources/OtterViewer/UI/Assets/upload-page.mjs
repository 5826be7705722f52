/*
 * Otter viewer: the upload page's script (/upload). Posts the chosen file (OTLP JSON or Jaeger JSON) to the server,
 * which reads it and answers trace models (nothing is stored), and shows each in the explorer (explorer.mjs), with
 * a picker when the file holds several traces.
 */
import { el, setUrlParams } from './dom.mjs';
import { Explorer } from './explorer.mjs';
import { text } from './format.mjs';

function initUploadPage(input) {
  const message = document.getElementById('upload-message') || el('p');
  let root = document.getElementById('explorer');
  if (!root) input.after(root = el('div', { id: 'explorer' }));
  let current = null;
  let picker = null;

  const say = (value, isError) => {
    message.textContent = value;
    message.classList.toggle('error', !!isError);
    // A failed upload leaves no earlier trace on screen under its message.
    if (isError) {
      if (current) current.destroy();
      current = null;
      root.replaceChildren();
      if (picker) picker.remove();
      picker = null;
    }
  };
  const show = (model) => {
    if (current) current.destroy();
    setUrlParams({ span: null, from: null, to: null });
    current = new Explorer(root, model, { summary: true });
  };

  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    say(`Reading ${file.name}\u2026`, false);
    try {
      const response = await fetch('/api/otter/trace-models', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: await file.text(),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const errors = body && Array.isArray(body.errors) ? body.errors.map((e) => e && e.msg).filter(Boolean) : [];
        return say(errors.length ? errors.join('; ') : `Upload failed (HTTP ${response.status}).`, true);
      }
      const traces = body && Array.isArray(body.traces) ? body.traces.filter((t) => t && Array.isArray(t.spans) && t.spans.length) : [];
      if (picker) picker.remove();
      picker = null;
      if (traces.length === 0) return say('The file holds no spans.', true);
      say(traces.length === 1 ? 'Loaded 1 trace.' : `Loaded ${traces.length} traces.`, false);
      if (traces.length > 1) {
        picker = el('select', { id: 'upload-trace-picker' }, ...traces.map((trace, index) => el('option', {
          value: String(index), textContent: `${text(trace.rootService)}: ${text(trace.rootName)}, ${trace.spans.length} spans`,
        })));
        picker.setAttribute('aria-label', 'Trace');
        picker.addEventListener('change', () => show(traces[Number(picker.value)]));
        root.before(picker);
      }
      show(traces[0]);
    } catch (error) {
      say(`Upload failed: ${error && error.message ? error.message : error}`, true);
    }
  });
}

function boot() {
  const upload = document.getElementById('upload-file');
  if (upload) initUploadPage(upload);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
