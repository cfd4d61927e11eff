-- Claims the next batch of one object type and lane: up to max-per-call pending paths of one
-- domain, from the domain that is ready first. The batch is leased: if its holder dies,
-- finish-batch-7.lua with only-if-expired puts it back. Claimed directories stay "in flight"
-- and keep covering what is admitted under them until the batch finishes.
-- A path still receiving repeats (one within the last quiet ms) waits for the domain's next
-- batch, so a burst of webhooks for it is submitted once; after `patience` ms it goes regardless.
-- Under pressure (the type's field and `act` of `pressure` are '1', docs/scarcity.md), two more rules:
-- a hot path must have been quiet for twice the mean gap between its requests (at most
-- hot quiet ms, and held at most hot hold ms), and a path already refreshed on this quota day
-- waits behind the lane's paths not yet refreshed today (it goes once none is left).
-- KEYS[1] ready           of the type and lane
-- KEYS[2] pendingMeta     of the type
-- KEYS[3] inflightPaths   of the type
-- KEYS[4] backlog
-- KEYS[5] inflight
-- KEYS[6] batch           the batch id's
-- KEYS[7] pressure
-- KEYS[8] refreshed       of the type and the quota day
-- KEYS[9] repeats         of the type and lane
-- ARGV: object type, lane, max per call, lease ms, batch id, window ms, quiet ms, patience ms,
--       quota day, hot quiet ms, hot hold ms
-- Returns {1, batch JSON, repeats held back} or {0, ms until the next domain is ready (-1:
-- nothing pending), repeats held back}.
-- Idempotent per batch id.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
local ready_key, pmeta_key, inflight_paths_key = KEYS[1], KEYS[2], KEYS[3]
local backlog, inflight_key, batch_key = KEYS[4], KEYS[5], KEYS[6]
local pressure_key, refreshed_key, repeats_key = KEYS[7], KEYS[8], KEYS[9]
local now = now_ms()
local otype, lane = ARGV[1], ARGV[2]
local max_per_call, lease, batch_id, window = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local quiet, patience = tonumber(ARGV[7]), tonumber(ARGV[8])
local day, hot_quiet, hot_hold = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])

local flags = redis.call('HMGET', pressure_key, otype, 'act')
local acting = flags[1] == '1' and flags[2] == '1'
-- Paths of this lane not known to be repeats today (repeats are found as they are met, so this
-- errs towards holding repeats back a little longer, never towards spending on them first).
local first_timers = 0
if acting then
  first_timers = (tonumber(redis.call('HGET', backlog, otype .. ':' .. lane)) or 0)
    - redis.call('ZCOUNT', repeats_key, day, day)
end
local held_repeats = 0

-- The quiet a path needs before it goes: twice the mean gap of its requests under pressure
-- (scarcity.ts requiredQuietMs), the base otherwise.
local function quiet_for(meta)
  local hits = tonumber(meta.hits) or 1
  if not acting or hits <= 1 then return quiet end
  local gap = math.max(0, (tonumber(meta.lastSeenAt) or 0) - (tonumber(meta.queuedAt) or 0)) / (hits - 1)
  return math.min(hot_quiet, math.max(quiet, math.floor(2 * gap + 0.5)))
end

-- A client that lost the reply re-sends the same call (ioredis does on reconnect): the batch
-- already cut under this id is the answer, never a second one (that would strand the first).
local already = redis.call('GET', batch_key)
if already then return { 1, already, 0 } end

for _ = 1, 32 do
  local head = redis.call('ZRANGE', ready_key, 0, 0, 'WITHSCORES')
  if #head == 0 then return { 0, -1, held_repeats } end
  local domain, ready_at = head[1], tonumber(head[2])
  if ready_at > now then return { 0, ready_at - now, held_repeats } end

  -- Paths that would be ready within the window ride along; paths held for later stay.
  local key = keyspace.pending(otype, lane, domain)
  local paths = redis.call('ZRANGE', key, '-inf', now + window, 'BYSCORE', 'LIMIT', 0, max_per_call)
  local items = {}
  for _, path in ipairs(paths) do
    local meta = cjson.decode(redis.call('HGET', pmeta_key, path))
    local last_seen, queued_at = tonumber(meta.lastSeenAt) or 0, tonumber(meta.queuedAt) or 0
    local need_quiet, hold = quiet_for(meta), patience
    if acting then hold = math.max(patience, hot_hold) end
    if last_seen > now - need_quiet and queued_at > now - hold then
      -- Back to the window: it joins the domain's next batch instead of going alone.
      redis.call('ZADD', key, math.max(last_seen + need_quiet, now + window), path)
    elseif acting and first_timers > 0 and redis.call('SISMEMBER', refreshed_key, path) == 1 then
      -- Refreshed today already: it waits behind the lane's first refreshes, one window at a time.
      if redis.call('ZADD', repeats_key, 'CH', day, path) == 1 then first_timers = first_timers - 1 end
      redis.call('ZADD', key, now + window, path)
      held_repeats = held_repeats + 1
    else
      items[#items + 1] = { path = path, requestIds = unlink_all(otype, path, meta), meta = meta }
      remove_pending(backlog, otype, path, meta)
      redis.call('SADD', inflight_paths_key, path)
      if otype == 'Directory' then redis.call('SADD', keyspace.inflightDirs(domain), path) end
    end
  end
  refresh_ready(ready_key, key, domain, now, window, max_per_call)

  if #items > 0 then
    local batch = cjson.encode({ id = batch_id, objectType = otype, lane = lane, domain = domain, claimedAt = now, items = items })
    redis.call('SET', batch_key, batch)
    redis.call('ZADD', inflight_key, now + lease, batch_id)
    return { 1, batch, held_repeats }
  end
end
return { 0, 0, held_repeats }
