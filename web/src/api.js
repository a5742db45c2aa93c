// REST client for the Switchboard HTTP API. Every response uses the envelope
// {success, data?, error?: {code, message}, meta}; failures become ApiError with the server's message.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

// With `full: true` the whole envelope is returned (for meta.timestamp, the server's clock).
export async function api(path, { method = 'GET', body, sessionId, full = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (sessionId) headers.Authorization = `Bearer ${sessionId}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Cannot reach the Switchboard server. Check your connection and try again.');
  }
  let envelope = null;
  try {
    envelope = await res.json();
  } catch {
    envelope = null;
  }
  if (!res.ok || !envelope || envelope.success === false) {
    const err = envelope && envelope.error;
    let message = err && err.message ? err.message : `The server answered ${res.status} ${res.statusText || ''}`.trim() + '.';
    throw new ApiError(res.status, (err && err.code) || `HTTP_${res.status}`, message, res.headers.get('Retry-After'));
  }
  return full ? envelope : envelope.data;
}

export const isAuthError = (e) => e instanceof ApiError && e.status === 401;
