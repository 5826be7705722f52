// Loads the viewer's browser modules (Sources/OtterViewer/UI/Assets/) for the tests beside this file: their URL is
// found from this file's own (Tests/JavaScript/ in the checkout), so the tests run from any working directory.
export const assetsURL = new URL(import.meta.url.replace(/Tests\/JavaScript\/[^/]*$/, 'Sources/OtterViewer/UI/Assets/'));

/** The module `name` (e.g. `format.mjs`) of the viewer's assets. */
export function load(name) {
  return import(new URL(name, assetsURL).href);
}

/** A trace model as the server answers it (GET /api/otter/traces/{id}): spans in depth-first order. */
export function traceModel(spans, extra) {
  return Object.assign({
    traceID: '4bf92f3577b34da6a3ce929d0e0e4736', rootService: 'shop', rootName: 'GET /', durationMicros: 0,
    startTimeUnixMicros: 1700000000000000,
    services: [
      { name: 'shop', color: '#2c7be5', resource: [['service.name', 'shop'], ['host.name', 'web-1']] },
      { name: 'payments', color: 'not a colour', resource: [] },
    ],
    spans,
  }, extra);
}

/**
 * A small trace: root 0 (shop GET /), children 1 (payments charge) and 3 (shop render); 1 has child 2 (payments
 * db.query). Span ids are 000…01 to 000…04.
 */
export function sampleModel() {
  return traceModel([
    { spanID: '0000000000000001', name: 'GET /', serviceIndex: 0, parentIndex: -1, depth: 0, startMicros: 0, durationMicros: 1000,
      attributes: [['http.request.method', 'GET']] },
    { spanID: '0000000000000002', name: 'charge', serviceIndex: 1, parentIndex: 0, depth: 1, startMicros: 100, durationMicros: 500,
      events: [{ name: 'card.declined', attributes: [['card.brand', 'Visa']] }], error: true },
    { spanID: '0000000000000003', name: 'db.query', serviceIndex: 1, parentIndex: 1, depth: 2, startMicros: 150, durationMicros: 200 },
    { spanID: '0000000000000004', name: 'render', serviceIndex: 0, parentIndex: 0, depth: 1, startMicros: 700, durationMicros: 250 },
  ]);
}
