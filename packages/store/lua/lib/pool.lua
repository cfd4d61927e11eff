-- Shared helpers of the pending-pool scripts, included textually by the loader
-- (`--@include lib/pool.lua`, after lib/clock.lua and keyspace). Key layout: docs/architecture.md.
-- `backlog` is the script's `{ns}:backlog` KEY; the keys of the paths and domains met on the way
-- are built with keyspace.<family>(...).

local LANE_RANK = { high = 3, normal = 2, low = 1 }

-- The score of a pending path whose earlier copy is still in flight: never eligible until
-- that batch finishes (so one path is never in two calls at once).
local PARKED = 9e15

local function higher_lane(a, b)
  if (LANE_RANK[a] or 0) >= (LANE_RANK[b] or 0) then return a end
  return b
end

local function sadd_all(key, members)
  for i = 1, #members, 500 do
    redis.call('SADD', key, unpack(members, i, math.min(i + 499, #members)))
  end
end

-- Which requests a pending path serves: the one that pended it anew, in its meta's `r` while it
-- still waits, and those that joined it since, in the path's set (keyspace.links). Most paths are
-- asked for once while pending, so most have no set: one key and one call fewer a path. Paths
-- pended before `r` existed have all their links in the set.
local function linked_requests(kind, path, meta)
  local ids = {}
  if meta and meta.r then ids[1] = meta.r end
  for _, rid in ipairs(redis.call('SMEMBERS', keyspace.links(kind, path))) do
    if rid ~= ids[1] then ids[#ids + 1] = rid end
  end
  return ids
end

-- Joins `request_ids` to the pending path whose meta is `meta` (nil: not read).
local function link(kind, path, meta, request_ids)
  local more = {}
  for _, rid in ipairs(request_ids) do
    if not (meta and rid == meta.r) then more[#more + 1] = rid end
  end
  if #more > 0 then sadd_all(keyspace.links(kind, path), more) end
end

-- Removes every link of `path` and returns the request ids; clears `r` in `meta`, which the
-- caller stores or drops.
local function unlink_all(kind, path, meta)
  local ids = linked_requests(kind, path, meta)
  if meta then meta.r = nil end
  redis.call('DEL', keyspace.links(kind, path))
  return ids
end

-- Removes one request's link to `path`, whose stored meta is `meta` (written back when `rid` was
-- its `r`); returns whether it was linked.
local function unlink(kind, path, meta, rid)
  local removed = redis.call('SREM', keyspace.links(kind, path), rid) == 1
  if meta and meta.r == rid then
    meta.r = nil
    redis.call('HSET', keyspace.pendingMeta(kind), path, cjson.encode(meta))
    removed = true
  end
  return removed
end

local function is_linked(kind, path, meta)
  return (meta ~= nil and meta.r ~= nil) or redis.call('EXISTS', keyspace.links(kind, path)) == 1
end

-- Recomputes when the domain's next batch of one type and lane may be cut (its entry in that
-- type and lane's ready key): when the oldest path of its pending key is eligible, or now when a
-- full batch of eligible-within-the-window paths waits.
local function refresh_ready(ready_key, pending_key, domain, now, window, max_per_call)
  local head = redis.call('ZRANGE', pending_key, 0, 0, 'WITHSCORES')
  if #head == 0 then
    redis.call('ZREM', ready_key, domain)
    return
  end
  local at = tonumber(head[2])
  if redis.call('ZCOUNT', pending_key, '-inf', now + window) >= max_per_call then at = math.min(at, now) end
  redis.call('ZADD', ready_key, at, domain)
end

-- `{ns}:backlog` counts pending paths per `<type>:<lane>`, for metrics and estimates.
-- Only a Directory is indexed as a directory (it covers what is under it); every other type
-- (File, and the kinds of work-kinds.ts, each in a pool domain of its own) as a file.
local function add_pending(backlog, otype, path, eligible_at, meta)
  if redis.call('ZADD', keyspace.pending(otype, meta.lane, meta.domain), eligible_at, path) == 1 then
    redis.call('HINCRBY', backlog, otype .. ':' .. meta.lane, 1)
  end
  redis.call('HSET', keyspace.pendingMeta(otype), path, cjson.encode(meta))
  if otype ~= 'Directory' then
    redis.call('ZADD', keyspace.files(meta.domain), 0, path)
  else
    redis.call('SADD', keyspace.dirs(meta.domain), path)
  end
end

local function remove_pending(backlog, otype, path, meta)
  if redis.call('ZREM', keyspace.pending(otype, meta.lane, meta.domain), path) == 1 then
    redis.call('HINCRBY', backlog, otype .. ':' .. meta.lane, -1)
  end
  redis.call('ZREM', keyspace.repeats(otype, meta.lane), path)
  redis.call('HDEL', keyspace.pendingMeta(otype), path)
  if otype ~= 'Directory' then
    redis.call('ZREM', keyspace.files(meta.domain), path)
  else
    redis.call('SREM', keyspace.dirs(meta.domain), path)
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
local function covering_dir(domain, path, kind)
  local best = nil
  for _, set in ipairs({ keyspace.dirs(domain), keyspace.inflightDirs(domain) }) do
    for _, dir in ipairs(redis.call('SMEMBERS', set)) do
      if covers(dir, path, kind) and (best == nil or #dir < #best) then best = dir end
    end
  end
  return best
end

local function cover(dir, request_ids, path)
  local entries = {}
  for i, rid in ipairs(request_ids) do entries[i] = rid .. '\t' .. path end
  if #entries > 0 then sadd_all(keyspace.covered(dir), entries) end
end

-- Moves every pending file and sub-directory under `dir` into dir's covered set: their requests
-- will see dir's outcome. Returns the highest lane absorbed and the (type, lane) pairs touched.
local function absorb_under(backlog, domain, dir)
  local top_lane, touched = nil, {}
  local covered_key = keyspace.covered(dir)
  local files = redis.call('ZRANGEBYLEX', keyspace.files(domain), '[' .. dir, '[' .. dir .. '\255')
  for _, path in ipairs(files) do
    local meta = cjson.decode(redis.call('HGET', keyspace.pendingMeta('File'), path))
    cover(dir, unlink_all('File', path, meta), path)
    remove_pending(backlog, 'File', path, meta)
    top_lane = higher_lane(meta.lane, top_lane)
    touched['File|' .. meta.lane] = true
  end
  for _, sub in ipairs(redis.call('SMEMBERS', keyspace.dirs(domain))) do
    if starts_with(sub, dir) then
      local meta = cjson.decode(redis.call('HGET', keyspace.pendingMeta('Directory'), sub))
      cover(dir, unlink_all('Directory', sub, meta), sub)
      local sub_covered = keyspace.covered(sub)
      if redis.call('EXISTS', sub_covered) == 1 and redis.call('SISMEMBER', keyspace.inflightDirs(domain), sub) == 0 then
        redis.call('SUNIONSTORE', covered_key, covered_key, sub_covered)
        redis.call('DEL', sub_covered)
      end
      remove_pending(backlog, 'Directory', sub, meta)
      top_lane = higher_lane(meta.lane, top_lane)
      touched['Directory|' .. meta.lane] = true
    end
  end
  return top_lane, touched
end

local function refresh_touched(domain, touched, now, window, max_files, max_dirs)
  for pair in pairs(touched) do
    local sep = string.find(pair, '|', 1, true)
    local otype, lane = string.sub(pair, 1, sep - 1), string.sub(pair, sep + 1)
    local max_per_call = otype == 'File' and max_files or max_dirs
    refresh_ready(keyspace.ready(otype, lane), keyspace.pending(otype, lane, domain), domain, now, window, max_per_call)
  end
end

-- Per domain, the (type|lane) pairs whose ready entry must be recomputed: once, at the end,
-- from the final pending sets (the same result as after each path, for a fraction of the calls).
local touched_by_domain = {}
local function touched_of(domain)
  local touched = touched_by_domain[domain]
  if not touched then
    touched = {}
    touched_by_domain[domain] = touched
  end
  return touched
end

-- Per domain: true when it has no pending and no in-flight directory, so nothing covers its
-- paths (asked once per domain; false from the moment this script pends a directory there).
local without_dirs = {}
local function dirless(domain)
  local known = without_dirs[domain]
  if known == nil then
    known = redis.call('SCARD', keyspace.dirs(domain)) == 0
      and redis.call('SCARD', keyspace.inflightDirs(domain)) == 0
    without_dirs[domain] = known
  end
  return known
end
local function covering(domain, path, kind)
  if dirless(domain) then return nil end
  return covering_dir(domain, path, kind)
end

-- Puts one path of `kind` in the pool for `request_ids` (none for a promotion): covered by a
-- pending or in-flight directory above it, joined to its pending copy (which counts the hit and
-- lifts the lane), or pended anew (a directory absorbing what is pending under it). Returns
-- whether it was already pending or covered, and the covering directory if any. The ready
-- entries it touches are recomputed once, by refresh_pended, at the end of the script.
local function pend_path(backlog, kind, path, domain, path_lane, request_ids, now, window)
  local dir = covering(domain, path, kind)
  if dir then
    cover(dir, request_ids, path)
    return true, dir
  end
  if kind == 'Directory' then without_dirs[domain] = false end
  local touched = touched_of(domain)
  local lane_now
  local pmeta_key = keyspace.pendingMeta(kind)
  local raw = redis.call('HGET', pmeta_key, path)
  local joined = raw ~= false
  if joined then
    local meta = cjson.decode(raw)
    link(kind, path, meta, request_ids)
    meta.lastSeenAt = now
    -- Requests seen while pending: the scarcity policy's measure of a hot path (docs/scarcity.md).
    meta.hits = (tonumber(meta.hits) or 1) + 1
    redis.call('HSET', pmeta_key, path, cjson.encode(meta))
    if higher_lane(path_lane, meta.lane) ~= meta.lane then
      local score = redis.call('ZSCORE', keyspace.pending(kind, meta.lane, domain), path)
      remove_pending(backlog, kind, path, meta)
      touched[kind .. '|' .. meta.lane] = true
      meta.lane = path_lane
      add_pending(backlog, kind, path, tonumber(score), meta)
    end
    lane_now = meta.lane
  else
    local meta = { domain = domain, lane = path_lane, queuedAt = now, lastSeenAt = now, attempts = 0, hits = 1, r = request_ids[1] }
    link(kind, path, meta, request_ids)
    local eligible_at = now + window
    if redis.call('SISMEMBER', keyspace.inflightPaths(kind), path) == 1 then eligible_at = PARKED end
    add_pending(backlog, kind, path, eligible_at, meta)
    -- New demand, counted for the pressure forecast; promotions are not demand.
    if #request_ids > 0 then redis.call('HINCRBY', backlog, 'arrived:' .. kind, 1) end
    if kind == 'Directory' then
      local top, absorbed = absorb_under(backlog, domain, path)
      for pair in pairs(absorbed) do touched[pair] = true end
      if top and higher_lane(top, path_lane) ~= path_lane then
        remove_pending(backlog, kind, path, meta)
        meta.lane = top
        add_pending(backlog, kind, path, eligible_at, meta)
      end
    end
    lane_now = meta.lane
  end
  touched[kind .. '|' .. lane_now] = true
  return joined, nil
end

-- Recomputes, once, the ready entries of everything touched in this script (pend_path, touched_of).
local function refresh_pended(now, window, max_files, max_dirs)
  for domain, touched in pairs(touched_by_domain) do
    refresh_touched(domain, touched, now, window, max_files, max_dirs)
  end
end
