// The token API client: JSON over fetch. A pasted admin token lives in sessionStorage (this tab
// only, never localStorage or a URL) and is sent as a Bearer header; otherwise the app's cookie is.
import { config } from './config.js';

const KEY = 'express-secrets-auth.admin-token';

export const storedToken = () => sessionStorage.getItem(KEY);
export const storeToken = (token) => sessionStorage.setItem(KEY, token);
export const forgetToken = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = storedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(config.base + path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data?.error;
    throw new ApiError(res.status, err?.code || 'error', err?.message || `The server answered ${res.status}.`);
  }
  return data;
}
