-- Indexes an admitted request for the operator: in the newest-first list of requests
-- (GET /v1/refreshes; entries older than the statuses' retention are dropped), and on the latest
-- requests of each of its paths (GET /v1/paths; at most `keep` per path, expiring with the
-- statuses). Idempotent: a request indexed again (BullMQ ran its job twice) changes nothing.
-- KEYS[1] requestIndex
-- ARGV: request id, receivedAt (ms), retention s, keep per path, object type, then the paths
-- Returns 1.
--@include keyspace
local request_index = KEYS[1]
local rid, received_at, retention, keep, otype = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZADD', request_index, received_at, rid)
redis.call('ZREMRANGEBYSCORE', request_index, '-inf', '(' .. (received_at - retention * 1000))
for i = 6, #ARGV do
  local key = keyspace.pathRequests(otype, ARGV[i])
  redis.call('ZADD', key, received_at, rid)
  if redis.call('ZCARD', key) > keep then redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 1)) end
  redis.call('EXPIRE', key, retention)
end
return 1
