-- Admits one accepted request: records its paths as queued and puts each in the pending pool.
-- A path already pending is not added again; the request is only linked to it (and a higher
-- lane lifts it). A path under a pending or in-flight directory is covered by it instead.
-- A directory absorbs the pending files and sub-directories under it. With promotion on, K
-- pending files under one parent directory are replaced by that directory.
-- Idempotent: a request already admitted is left alone.
-- KEYS[1] request   the request's hash
-- KEYS[2] backlog
-- ARGV: request id, meta JSON, object type, lane, window ms, max files per call,
--       max dirs per call, retention s, promote-at (0 = off), then pairs of (path, domain)
-- Returns 0 when the request was admitted before, else 1 + the number of paths coalesced.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
local request_key, backlog = KEYS[1], KEYS[2]
if redis.call('EXISTS', request_key) == 1 then return 0 end
local now = now_ms()
local rid, otype, lane = ARGV[1], ARGV[3], ARGV[4]
local window, max_files, max_dirs = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local retention, promote_at = tonumber(ARGV[8]), tonumber(ARGV[9])
local queued = cjson.encode({ state = 'queued', updatedAt = now })

local function pend(kind, path, domain, path_lane, request_ids)
  -- Returns true when the path was already pending (coalesced) or covered.
  local dir = covering_dir(domain, path, kind)
  if dir then
    cover(dir, request_ids, path)
    return true, dir
  end
  if #request_ids > 0 then sadd_all(keyspace.links(kind, path), request_ids) end
  local touched = {}
  local pmeta_key = keyspace.pendingMeta(kind)
  local raw = redis.call('HGET', pmeta_key, path)
  local joined = raw ~= false
  if joined then
    local meta = cjson.decode(raw)
    meta.lastSeenAt = now
    redis.call('HSET', pmeta_key, path, cjson.encode(meta))
    if higher_lane(path_lane, meta.lane) ~= meta.lane then
      local score = redis.call('ZSCORE', keyspace.pending(kind, meta.lane, domain), path)
      remove_pending(backlog, kind, path, meta)
      touched[kind .. '|' .. meta.lane] = true
      meta.lane = path_lane
      add_pending(backlog, kind, path, tonumber(score), meta)
    end
  else
    local meta = { domain = domain, lane = path_lane, queuedAt = now, lastSeenAt = now, attempts = 0 }
    local eligible_at = now + window
    if redis.call('SISMEMBER', keyspace.inflightPaths(kind), path) == 1 then eligible_at = PARKED end
    add_pending(backlog, kind, path, eligible_at, meta)
    if kind == 'Directory' then
      local top, absorbed = absorb_under(backlog, domain, path)
      for pair in pairs(absorbed) do touched[pair] = true end
      if top and higher_lane(top, path_lane) ~= path_lane then
        remove_pending(backlog, kind, path, meta)
        meta.lane = top
        add_pending(backlog, kind, path, eligible_at, meta)
      end
    end
  end
  local meta = cjson.decode(redis.call('HGET', pmeta_key, path))
  touched[kind .. '|' .. meta.lane] = true
  refresh_touched(domain, touched, now, window, max_files, max_dirs)
  return joined, nil
end

-- The directory a file sits in: everything up to the last '/' before any query.
local function parent_of(path)
  local bare = string.match(path, '^[^?]*')
  return string.match(bare, '^(.*/)[^/]*$')
end

redis.call('HSET', request_key, 'meta', ARGV[2], 'open', (#ARGV - 9) / 2)
local coalesced = 0
for i = 10, #ARGV, 2 do
  local path, domain = ARGV[i], ARGV[i + 1]
  local joined, dir = pend(otype, path, domain, lane, { rid })
  if joined then coalesced = coalesced + 1 end
  if dir then
    redis.call('HSET', request_key, 'p:' .. path, cjson.encode({ state = 'queued', updatedAt = now, coveredBy = dir }))
  else
    redis.call('HSET', request_key, 'p:' .. path, queued)
  end
  if promote_at > 0 and otype == 'File' and not dir then
    local parent = parent_of(path)
    local files_key = keyspace.files(domain)
    if parent and redis.call('ZLEXCOUNT', files_key, '[' .. parent, '[' .. parent .. '\255') >= promote_at then
      pend('Directory', parent, domain, lane, {})
      local dir_meta_key = keyspace.pendingMeta('Directory')
      local pmeta = cjson.decode(redis.call('HGET', dir_meta_key, parent) or '{}')
      if pmeta.domain then
        pmeta.promoted = true
        redis.call('HSET', dir_meta_key, parent, cjson.encode(pmeta))
      end
    end
  end
end
redis.call('EXPIRE', request_key, retention)
return 1 + coalesced
