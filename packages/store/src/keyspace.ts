/**
 * Every refreshq key, and BullMQ's, starts with the hash tag `{namespace}` so that all of them
 * live in one Redis Cluster slot and Lua scripts may touch any of them.
 */
export interface Keyspace {
  namespace: string;
  /** Prefix of refreshq's own keys, e.g. `{refreshq}:`. */
  prefix: string;
  /** BullMQ's `prefix` option: its keys become `{refreshq}:<queue>:...`. */
  bullPrefix: string;
  request(id: string): string;
  idempotency(digest: string): string;
  breaker: string;
  /** Per type and lane: backlog and estimated submission time, published by the workers. */
  estimates: string;
  inflight: string;
  ready(objectType: string, lane: string): string;
}

export function keyspace(namespace = 'refreshq'): Keyspace {
  const bullPrefix = `{${namespace}}`;
  const prefix = `${bullPrefix}:`;
  return {
    namespace,
    prefix,
    bullPrefix,
    request: (id) => `${prefix}req:${id}`,
    idempotency: (digest) => `${prefix}idem:${digest}`,
    breaker: `${prefix}breaker`,
    estimates: `${prefix}quota:estimates`,
    inflight: `${prefix}inflight`,
    ready: (objectType, lane) => `${prefix}ready:${objectType}:${lane}`,
  };
}
