-- Admits one accepted request: records its paths as queued and links each to a pending entry.
-- A path already pending for the same object type is not added again (coalesced): the request
-- is only linked to it. Idempotent: a request already admitted is left alone.
-- KEYS[1] request hash
-- ARGV: prefix, request id, meta JSON, object type, window ms, max per call, retention s,
--       then pairs of (path, domain)
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, rid, meta, otype = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local window, maxPerCall, retention = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local readyKey = prefix .. 'ready:' .. otype
local pmetaKey = prefix .. 'pmeta:' .. otype
local queued = cjson.encode({ state = 'queued', updatedAt = now })

redis.call('HSET', KEYS[1], 'meta', meta)
local coalesced = 0
for i = 8, #ARGV, 2 do
  local path, domain = ARGV[i], ARGV[i + 1]
  local pendingKey = prefix .. 'pending:' .. otype .. ':' .. domain
  redis.call('HSET', KEYS[1], 'p:' .. path, queued)
  redis.call('SADD', prefix .. 'links:' .. otype .. ':' .. path, rid)
  if redis.call('ZADD', pendingKey, 'NX', now + window, path) == 1 then
    redis.call('HSET', pmetaKey, path, cjson.encode({ domain = domain, queuedAt = now, attempts = 0 }))
  else
    coalesced = coalesced + 1
  end
  -- The domain is ready when its oldest path has waited the window, or at once when a full batch waits.
  local readyAt = tonumber(redis.call('ZRANGE', pendingKey, 0, 0, 'WITHSCORES')[2])
  if redis.call('ZCOUNT', pendingKey, '-inf', now + window) >= maxPerCall then readyAt = now end
  redis.call('ZADD', readyKey, 'LT', readyAt, domain)
end
redis.call('EXPIRE', KEYS[1], retention)
return 1 + coalesced
