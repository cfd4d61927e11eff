-- Admits one accepted request: records its paths as queued and puts each in the pending pool.
-- A path already pending is not added again; the request is only linked to it (and a higher
-- lane lifts it). A path under a pending or in-flight directory is covered by it instead.
-- A directory absorbs the pending files and sub-directories under it. With promotion on, K
-- pending files under one parent directory are replaced by that directory.
-- Idempotent: a request already admitted is left alone.
-- KEYS[1] request hash
-- ARGV: prefix, request id, meta JSON, object type, lane, window ms, max files per call,
--       max dirs per call, retention s, promote-at (0 = off), then pairs of (path, domain)
--@include lib/clock.lua
--@include lib/pool.lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = now_ms()
local prefix, rid, otype, lane = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local window, max_files, max_dirs = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local retention, promote_at = tonumber(ARGV[9]), tonumber(ARGV[10])
local queued = cjson.encode({ state = 'queued', updatedAt = now })

local function pend(kind, path, domain, path_lane, request_ids)
  -- Returns true when the path was already pending (coalesced) or covered.
  local dir = covering_dir(prefix, domain, path, kind)
  if dir then
    cover(prefix, dir, request_ids, path)
    return true, dir
  end
  if #request_ids > 0 then sadd_all(prefix .. 'links:' .. kind .. ':' .. path, request_ids) end
  local touched = {}
  local raw = redis.call('HGET', prefix .. 'pmeta:' .. kind, path)
  local joined = raw ~= false
  if joined then
    local meta = cjson.decode(raw)
    meta.lastSeenAt = now
    redis.call('HSET', prefix .. 'pmeta:' .. kind, path, cjson.encode(meta))
    if higher_lane(path_lane, meta.lane) ~= meta.lane then
      local score = redis.call('ZSCORE', pending_key(prefix, kind, meta.lane, domain), path)
      remove_pending(prefix, kind, path, meta)
      touched[kind .. '|' .. meta.lane] = true
      meta.lane = path_lane
      add_pending(prefix, kind, path, tonumber(score), meta)
    end
  else
    local meta = { domain = domain, lane = path_lane, queuedAt = now, lastSeenAt = now, attempts = 0 }
    local eligible_at = now + window
    if redis.call('SISMEMBER', inflight_paths_key(prefix, kind), path) == 1 then eligible_at = PARKED end
    add_pending(prefix, kind, path, eligible_at, meta)
    if kind == 'Directory' then
      local top, absorbed = absorb_under(prefix, domain, path)
      for pair in pairs(absorbed) do touched[pair] = true end
      if top and higher_lane(top, path_lane) ~= path_lane then
        remove_pending(prefix, kind, path, meta)
        meta.lane = top
        add_pending(prefix, kind, path, eligible_at, meta)
      end
    end
  end
  local meta = cjson.decode(redis.call('HGET', prefix .. 'pmeta:' .. kind, path))
  touched[kind .. '|' .. meta.lane] = true
  refresh_touched(prefix, domain, touched, now, window, max_files, max_dirs)
  return joined, nil
end

-- The directory a file sits in: everything up to the last '/' before any query.
local function parent_of(path)
  local bare = string.match(path, '^[^?]*')
  return string.match(bare, '^(.*/)[^/]*$')
end

redis.call('HSET', KEYS[1], 'meta', ARGV[3], 'open', (#ARGV - 10) / 2)
local coalesced = 0
for i = 11, #ARGV, 2 do
  local path, domain = ARGV[i], ARGV[i + 1]
  local joined, dir = pend(otype, path, domain, lane, { rid })
  if joined then coalesced = coalesced + 1 end
  if dir then
    redis.call('HSET', KEYS[1], 'p:' .. path, cjson.encode({ state = 'queued', updatedAt = now, coveredBy = dir }))
  else
    redis.call('HSET', KEYS[1], 'p:' .. path, queued)
  end
  if promote_at > 0 and otype == 'File' and not dir then
    local parent = parent_of(path)
    local files_key = prefix .. 'files:' .. domain
    if parent and redis.call('ZLEXCOUNT', files_key, '[' .. parent, '[' .. parent .. '\255') >= promote_at then
      pend('Directory', parent, domain, lane, {})
      local pmeta = cjson.decode(redis.call('HGET', prefix .. 'pmeta:Directory', parent) or '{}')
      if pmeta.domain then
        pmeta.promoted = true
        redis.call('HSET', prefix .. 'pmeta:Directory', parent, cjson.encode(pmeta))
      end
    end
  end
end
redis.call('EXPIRE', KEYS[1], retention)
return 1 + coalesced
