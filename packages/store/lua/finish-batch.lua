-- Ends a claimed batch in one step. Each path either gets its outcome recorded on every request
-- linked to it, or goes back to the pending set (after a delay, with its updated meta), merged with
-- any newer request for the same path. Paths the caller does not mention go back as uncertain:
-- the upstream may have accepted them. With only-if-expired, acts only on a batch whose lease ran
-- out (its holder died), putting all of it back.
-- ARGV: prefix, batch id, max per call, window ms, only-if-expired ('1'/'0'),
--       JSON {path: {status = {...}} | {requeue = {delayMs, meta}}}
-- Returns 1, or 0 when the batch is gone (already finished or reclaimed) or its lease still runs.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, batchId = ARGV[1], ARGV[2]
local maxPerCall, window, onlyIfExpired = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local batchKey = prefix .. 'batch:' .. batchId
local inflightKey = prefix .. 'inflight'

local raw = redis.call('GET', batchKey)
if not raw then return 0 end
if onlyIfExpired then
  local leaseEnd = redis.call('ZSCORE', inflightKey, batchId)
  if leaseEnd and tonumber(leaseEnd) > now then return 0 end
end

local batch = cjson.decode(raw)
local outcomes = cjson.decode(ARGV[6])
local otype, domain = batch.objectType, batch.domain
local pendingKey = prefix .. 'pending:' .. otype .. ':' .. domain
local pmetaKey = prefix .. 'pmeta:' .. otype
local readyKey = prefix .. 'ready:' .. otype

local function sadd_all(key, members)
  for i = 1, #members, 500 do
    redis.call('SADD', key, unpack(members, i, math.min(i + 499, #members)))
  end
end

local requeued = false
for _, item in ipairs(batch.items) do
  local outcome = outcomes[item.path]
  if outcome and outcome.status then
    local status = outcome.status
    status.updatedAt = now
    local encoded = cjson.encode(status)
    for _, rid in ipairs(item.requestIds) do
      local reqKey = prefix .. 'req:' .. rid
      if redis.call('HEXISTS', reqKey, 'meta') == 1 then
        redis.call('HSET', reqKey, 'p:' .. item.path, encoded)
      end
    end
  else
    local delay, meta = 0, item.meta
    if outcome and outcome.requeue then
      delay = tonumber(outcome.requeue.delayMs) or 0
      meta = outcome.requeue.meta or meta
    else
      meta.uncertainSince = meta.uncertainSince or batch.claimedAt
    end
    local readyAt = now + delay
    local existing = redis.call('ZSCORE', pendingKey, item.path)
    if existing then readyAt = math.max(readyAt, tonumber(existing)) end
    redis.call('ZADD', pendingKey, readyAt, item.path)
    redis.call('HSET', pmetaKey, item.path, cjson.encode(meta))
    if #item.requestIds > 0 then sadd_all(prefix .. 'links:' .. otype .. ':' .. item.path, item.requestIds) end
    requeued = true
  end
end

if requeued then
  local readyAt = tonumber(redis.call('ZRANGE', pendingKey, 0, 0, 'WITHSCORES')[2])
  if redis.call('ZCOUNT', pendingKey, '-inf', now + window) >= maxPerCall then readyAt = now end
  redis.call('ZADD', readyKey, 'LT', readyAt, domain)
end
redis.call('DEL', batchKey)
redis.call('ZREM', inflightKey, batchId)
return 1
