-- Claims the next batch: up to max-per-call pending paths of one object type and one domain,
-- taken from the domain whose oldest path is ready first. The batch is leased: if its holder
-- dies, finish-batch.lua with only-if-expired puts it back.
-- ARGV: prefix, object type, max per call, lease ms, batch id, window ms
-- Returns {1, batch JSON} or {0, ms until the next domain is ready (-1: nothing pending)}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, otype = ARGV[1], ARGV[2]
local maxPerCall, lease, batchId, window = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local readyKey = prefix .. 'ready:' .. otype
local pmetaKey = prefix .. 'pmeta:' .. otype

for _ = 1, 32 do
  local head = redis.call('ZRANGE', readyKey, 0, 0, 'WITHSCORES')
  if #head == 0 then return { 0, -1 } end
  local domain, readyAt = head[1], tonumber(head[2])
  if readyAt > now then return { 0, readyAt - now } end

  local pendingKey = prefix .. 'pending:' .. otype .. ':' .. domain
  -- Paths that would be ready within the window ride along; paths held for later stay.
  local paths = redis.call('ZRANGE', pendingKey, '-inf', now + window, 'BYSCORE', 'LIMIT', 0, maxPerCall)
  if #paths > 0 then redis.call('ZREM', pendingKey, unpack(paths)) end

  local rest = redis.call('ZRANGE', pendingKey, 0, 0, 'WITHSCORES')
  if #rest == 0 then
    redis.call('ZREM', readyKey, domain)
  else
    local nextAt = tonumber(rest[2])
    if redis.call('ZCOUNT', pendingKey, '-inf', now + window) >= maxPerCall then nextAt = now end
    redis.call('ZADD', readyKey, nextAt, domain)
  end

  if #paths > 0 then
    local items = {}
    for i, path in ipairs(paths) do
      local linksKey = prefix .. 'links:' .. otype .. ':' .. path
      local meta = redis.call('HGET', pmetaKey, path)
      items[i] = {
        path = path,
        requestIds = redis.call('SMEMBERS', linksKey),
        meta = cjson.decode(meta or '{}'),
      }
      redis.call('DEL', linksKey)
      redis.call('HDEL', pmetaKey, path)
    end
    local batch = cjson.encode({ id = batchId, objectType = otype, domain = domain, claimedAt = now, items = items })
    redis.call('SET', prefix .. 'batch:' .. batchId, batch)
    redis.call('ZADD', prefix .. 'inflight', now + lease, batchId)
    return { 1, batch }
  end
end
return { 0, 0 }
