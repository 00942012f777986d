// The service's JSON endpoints (docs/serve.md, docs/openapi.json). The key,
// when the service asks one, is kept in this browser's storage and sent as
// X-API-Key; the page itself holds no data.

export class ApiError extends Error {
  constructor(status, message, path) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

export function apiKey() {
  return localStorage.getItem('coinhound.key') || '';
}

export async function call(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (apiKey()) headers['X-API-Key'] = apiKey();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `the service did not answer (${e.message})`, path);
  }
  const text = await res.text();
  let doc = null;
  try {
    doc = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: an error page of a proxy, say */
  }
  if (!res.ok) {
    const msg = (doc && doc.error && doc.error.message) || text.slice(0, 200) || res.statusText;
    throw new ApiError(res.status, msg, path);
  }
  return doc;
}

// Is an error "this endpoint is not served (yet)" rather than a real answer?
export function notServed(e) {
  return e instanceof ApiError && e.status === 404 && /no such endpoint/.test(e.message);
}

const enc = encodeURIComponent;
export const api = {
  status: () => call('/v1/status'),
  address: (a) => call(`/v1/address/${enc(a)}`),
  history: (a, cursor, limit = 25) =>
    call(`/v1/address/${enc(a)}/txs?limit=${limit}${cursor ? '&cursor=' + enc(cursor) : ''}`),
  tx: (t) => call(`/v1/tx/${enc(t)}`),
  block: (h) => call(`/v1/block/${enc(h)}`),
  cluster: (a) => call(`/v1/cluster/${enc(a)}`),
  screen: (a) => call('/v1/screen', { method: 'POST', body: [{ address: a }] }).then((v) => v[0]),
  intelAddress: (a) => call(`/v1/intel/address/${enc(a)}`),
  actors: () => call('/v1/intel/actors'),
  trace: (spec) => call('/v1/trace', { method: 'POST', body: spec }),
  alerts: (since) => call(`/v1/alerts${since ? '?since=' + enc(since) : ''}`),
  openapi: () => call('/v1/openapi.json'),
};
