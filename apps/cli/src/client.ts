/** The API answered with an error: its status and its JSON (`{"error": {"code", "message"}}`). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    super(error ? `${error.code}: ${error.message}` : `HTTP ${status}`);
  }
}

/** No answer at all: refused, reset, a name that does not resolve. */
export class Unreachable extends Error {}

export interface Client {
  readonly baseUrl: string;
  call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T>;
}

/** A small JSON client of the refreshq API: the bearer token on every call, errors as ApiFailure. */
export function createClient(baseUrl: string, token: string | undefined): Client {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    baseUrl: base,
    async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            accept: 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...headers,
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new Unreachable(`cannot reach ${base}: ${cause?.code ?? cause?.message ?? String(error)}`);
      }
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!response.ok) throw new ApiFailure(response.status, parsed);
      return parsed as T;
    },
  };
}
