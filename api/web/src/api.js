// The API client: login for a bearer token, GraphQL over fetch, errors turned into messages.

const TOKEN_KEY = "chainlens.token";

export class ApiError extends Error {
  constructor(message, { status = 0, code = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function login(username, password) {
  const response = await fetch("auth/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiError(body.detail || `login failed (${response.status})`, { status: response.status });
  }
  const body = await response.json();
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  return body;
}

export async function me() {
  const response = await fetch("me", { headers: { authorization: `Bearer ${token()}` } });
  if (!response.ok) throw new ApiError("not logged in", { status: response.status });
  return response.json();
}

// Runs one GraphQL operation; resolves to `data`, or throws the first error with its code.
// `allowPartial` returns data even when some fields failed (the card's optional sections).
export async function gql(query, variables = {}, { allowPartial = false } = {}) {
  const response = await fetch("graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token()}` },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    logout();
    window.dispatchEvent(new Event("chainlens:logged-out"));
    throw new ApiError("session expired; log in again", { status: 401 });
  }
  if (response.status === 429) {
    const wait = response.headers.get("retry-after") || "a few";
    throw new ApiError(`too many requests; retry in ${wait} s`, { status: 429, code: "RATE_LIMITED" });
  }
  const body = await response.json().catch(() => null);
  if (!body) throw new ApiError(`bad response (${response.status})`, { status: response.status });
  if (body.errors && body.errors.length && !(allowPartial && body.data)) {
    const first = body.errors[0];
    throw new ApiError(first.message, { status: response.status, code: first.extensions?.code });
  }
  return body.data;
}
