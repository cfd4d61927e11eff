-- Shared helpers of the pending-pool scripts, included textually by the loader
-- (`--@include lib/pool.lua`, after lib/clock.lua). Key layout: docs/architecture.md.

local LANE_RANK = { high = 3, normal = 2, low = 1 }

-- The score of a pending path whose earlier copy is still in flight: never eligible until
-- that batch finishes (so one path is never in two calls at once).
local PARKED = 9e15

local function inflight_paths_key(prefix, otype)
  return prefix .. 'inflight-paths:' .. otype
end

local function higher_lane(a, b)
  if (LANE_RANK[a] or 0) >= (LANE_RANK[b] or 0) then return a end
  return b
end

local function pending_key(prefix, otype, lane, domain)
  return prefix .. 'pending:' .. otype .. ':' .. lane .. ':' .. domain
end

local function sadd_all(key, members)
  for i = 1, #members, 500 do
    redis.call('SADD', key, unpack(members, i, math.min(i + 499, #members)))
  end
end

-- Recomputes when the domain's next batch of this type and lane may be cut: when its oldest
-- path is eligible, or now when a full batch of eligible-within-the-window paths waits.
local function refresh_ready(prefix, otype, lane, domain, now, window, max_per_call)
  local key = pending_key(prefix, otype, lane, domain)
  local ready_key = prefix .. 'ready:' .. otype .. ':' .. lane
  local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #head == 0 then
    redis.call('ZREM', ready_key, domain)
    return
  end
  local at = tonumber(head[2])
  if redis.call('ZCOUNT', key, '-inf', now + window) >= max_per_call then at = math.min(at, now) end
  redis.call('ZADD', ready_key, at, domain)
end

-- `{ns}:backlog` counts pending paths per `<type>:<lane>`, for metrics and estimates.
local function add_pending(prefix, otype, path, eligible_at, meta)
  if redis.call('ZADD', pending_key(prefix, otype, meta.lane, meta.domain), eligible_at, path) == 1 then
    redis.call('HINCRBY', prefix .. 'backlog', otype .. ':' .. meta.lane, 1)
  end
  redis.call('HSET', prefix .. 'pmeta:' .. otype, path, cjson.encode(meta))
  if otype == 'File' then
    redis.call('ZADD', prefix .. 'files:' .. meta.domain, 0, path)
  else
    redis.call('SADD', prefix .. 'dirs:' .. meta.domain, path)
  end
end

local function remove_pending(prefix, otype, path, meta)
  if redis.call('ZREM', pending_key(prefix, otype, meta.lane, meta.domain), path) == 1 then
    redis.call('HINCRBY', prefix .. 'backlog', otype .. ':' .. meta.lane, -1)
  end
  redis.call('HDEL', prefix .. 'pmeta:' .. otype, path)
  if otype == 'File' then
    redis.call('ZREM', prefix .. 'files:' .. meta.domain, path)
  else
    redis.call('SREM', prefix .. 'dirs:' .. meta.domain, path)
  end
end

local function starts_with(text, start)
  return #text > #start and string.sub(text, 1, #start) == start
end

-- A directory covers every file whose path starts with it (itself included: the index object)
-- and every directory strictly under it.
local function covers(dir, path, kind)
  if kind == 'Directory' then return starts_with(path, dir) end
  return #path >= #dir and string.sub(path, 1, #dir) == dir
end

-- The outermost pending or in-flight directory that covers `path`, if any.
local function covering_dir(prefix, domain, path, kind)
  local best = nil
  for _, set in ipairs({ 'dirs:', 'inflight-dirs:' }) do
    for _, dir in ipairs(redis.call('SMEMBERS', prefix .. set .. domain)) do
      if covers(dir, path, kind) and (best == nil or #dir < #best) then best = dir end
    end
  end
  return best
end

local function cover(prefix, dir, request_ids, path)
  local entries = {}
  for i, rid in ipairs(request_ids) do entries[i] = rid .. '\t' .. path end
  if #entries > 0 then sadd_all(prefix .. 'covered:' .. dir, entries) end
end

-- Moves every pending file and sub-directory under `dir` into dir's covered set: their requests
-- will see dir's outcome. Returns the highest lane absorbed and the (type, lane) pairs touched.
local function absorb_under(prefix, domain, dir)
  local top_lane, touched = nil, {}
  local covered_key = prefix .. 'covered:' .. dir
  local files = redis.call('ZRANGEBYLEX', prefix .. 'files:' .. domain, '[' .. dir, '[' .. dir .. '\255')
  for _, path in ipairs(files) do
    local meta = cjson.decode(redis.call('HGET', prefix .. 'pmeta:File', path))
    local links_key = prefix .. 'links:File:' .. path
    cover(prefix, dir, redis.call('SMEMBERS', links_key), path)
    redis.call('DEL', links_key)
    remove_pending(prefix, 'File', path, meta)
    top_lane = higher_lane(meta.lane, top_lane)
    touched['File|' .. meta.lane] = true
  end
  for _, sub in ipairs(redis.call('SMEMBERS', prefix .. 'dirs:' .. domain)) do
    if starts_with(sub, dir) then
      local meta = cjson.decode(redis.call('HGET', prefix .. 'pmeta:Directory', sub))
      local links_key = prefix .. 'links:Directory:' .. sub
      cover(prefix, dir, redis.call('SMEMBERS', links_key), sub)
      redis.call('DEL', links_key)
      local sub_covered = prefix .. 'covered:' .. sub
      if redis.call('EXISTS', sub_covered) == 1 and redis.call('SISMEMBER', prefix .. 'inflight-dirs:' .. domain, sub) == 0 then
        redis.call('SUNIONSTORE', covered_key, covered_key, sub_covered)
        redis.call('DEL', sub_covered)
      end
      remove_pending(prefix, 'Directory', sub, meta)
      top_lane = higher_lane(meta.lane, top_lane)
      touched['Directory|' .. meta.lane] = true
    end
  end
  return top_lane, touched
end

local function refresh_touched(prefix, domain, touched, now, window, max_files, max_dirs)
  for pair in pairs(touched) do
    local sep = string.find(pair, '|', 1, true)
    local otype, lane = string.sub(pair, 1, sep - 1), string.sub(pair, sep + 1)
    refresh_ready(prefix, otype, lane, domain, now, window, otype == 'File' and max_files or max_dirs)
  end
end
