-- Admits one accepted request: records its paths as queued and puts each in the pending pool.
-- A path already pending is not added again; the request is only linked to it (and a higher
-- lane lifts it). A path under a pending or in-flight directory is covered by it instead.
-- A directory absorbs the pending files and sub-directories under it. With promotion on, K
-- pending files under one parent directory are replaced by that directory. In the same step the
-- request is indexed for the operator (lib/request-index.lua).
-- Idempotent: a request already admitted is left alone.
-- KEYS[1] request        the request's hash
-- KEYS[2] backlog
-- KEYS[3] requestIndex
-- ARGV: request id, meta JSON, pool type, lane, window ms, max files per call, max dirs per call,
--       retention s, promote-at (0 = off), index type (the request's object type; '' = index
--       no path), keep per path, receivedAt ms, then per pool domain: the domain, the number of
--       its paths, and those paths
-- Returns 0 when the request was admitted before, else 1 + the number of paths coalesced.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
--@include lib/request-index.lua
local request_key, backlog, request_index = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', request_key) == 1 then return 0 end
local now = now_ms()
local rid, otype, lane = ARGV[1], ARGV[3], ARGV[4]
local window, max_files, max_dirs = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local retention, promote_at = tonumber(ARGV[8]), tonumber(ARGV[9])
local index_type, keep, received_at = ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])

-- The request's paths and their pool domains (one string a domain, however many paths it has).
local paths, domains = {}, {}
do
  local i = 13
  while i <= #ARGV do
    local domain, count = ARGV[i], tonumber(ARGV[i + 1])
    for j = i + 2, i + 1 + count do
      paths[#paths + 1] = ARGV[j]
      domains[#domains + 1] = domain
    end
    i = i + 2 + count
  end
end

-- The directory a file sits in: everything up to the last '/' before any query.
local function parent_of(path)
  local bare = string.match(path, '^[^?]*')
  return string.match(bare, '^(.*/)[^/]*$')
end

-- `command key <items>` over `list` in chunks of `size` items (unpack has a limit; `size` even
-- for lists of pairs); returns the sum of the replies.
local function in_chunks(command, key, list, size)
  local sum = 0
  for i = 1, #list, size do
    sum = sum + (tonumber(redis.call(command, key, unpack(list, i, math.min(i + size - 1, #list)))) or 0)
  end
  return sum
end

-- Files of a request without promotion, on domains with no directory pending or in flight: no
-- directory covers them and none changes what another does, so they are pended together, in a
-- few commands for all of them instead of several each; the result is what pend() gives path by
-- path. A pending path a higher lane lifts goes through pend() itself.
local function pend_files_together(at, request_ids, queued_paths)
  local pmeta_key, inflight_key, joined_count = keyspace.pendingMeta('File'), keyspace.inflightPaths('File'), 0
  local metas, parked = {}, {}
  -- Batches are few and short next to the pending pool: most of the time none is in flight.
  local any_in_flight = redis.call('SCARD', inflight_key) > 0
  for i = 1, #at, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #at) do chunk[#chunk + 1] = paths[at[j]] end
    local found = redis.call('HMGET', pmeta_key, unpack(chunk))
    local busy = any_in_flight and redis.call('SMISMEMBER', inflight_key, unpack(chunk)) or {}
    for j = 1, #chunk do
      metas[i + j - 1] = found[j]
      parked[i + j - 1] = busy[j] == 1
    end
  end
  -- Scores as strings: a Lua number given to redis.call is formatted anew each time.
  local eligible_at, parked_at = string.format('%d', now + window), string.format('%d', PARKED)
  -- A new path's meta depends on its domain alone here: encoded once per domain.
  local meta_fields, pending_by_domain, files_by_domain, new_meta = {}, {}, {}, {}
  for i, index in ipairs(at) do
    local path, domain = paths[index], domains[index]
    local raw = metas[i]
    queued_paths[#queued_paths + 1] = path
    local meta = raw and cjson.decode(raw)
    if meta and higher_lane(lane, meta.lane) ~= meta.lane then
      pend_path(backlog, 'File', path, domain, lane, request_ids, now, window)
      joined_count = joined_count + 1
    else
      meta_fields[#meta_fields + 1] = path
      if meta then
        link('File', path, meta, request_ids)
        meta.lastSeenAt = now
        meta.hits = (tonumber(meta.hits) or 1) + 1
        joined_count = joined_count + 1
        meta_fields[#meta_fields + 1] = cjson.encode(meta)
        touched_of(domain)['File|' .. meta.lane] = true
      else
        local encoded = new_meta[domain]
        if not encoded then
          encoded = cjson.encode({ domain = domain, lane = lane, queuedAt = now, lastSeenAt = now, attempts = 0, hits = 1, r = request_ids[1] })
          new_meta[domain] = encoded
          touched_of(domain)['File|' .. lane] = true
        end
        meta_fields[#meta_fields + 1] = encoded
        local pending = pending_by_domain[domain]
        local files = files_by_domain[domain]
        if not pending then
          pending, files = {}, {}
          pending_by_domain[domain], files_by_domain[domain] = pending, files
        end
        pending[#pending + 1] = parked[i] and parked_at or eligible_at
        pending[#pending + 1] = path
        files[#files + 1] = '0'
        files[#files + 1] = path
      end
    end
  end
  local added = 0
  for domain, pending in pairs(pending_by_domain) do
    added = added + in_chunks('ZADD', keyspace.pending('File', lane, domain), pending, 1000)
    in_chunks('ZADD', keyspace.files(domain), files_by_domain[domain], 1000)
  end
  if added > 0 then
    redis.call('HINCRBY', backlog, 'File:' .. lane, added)
    redis.call('HINCRBY', backlog, 'arrived:File', added)
  end
  in_chunks('HSET', pmeta_key, meta_fields, 1000)
  return joined_count
end

redis.call('HSET', request_key, 'meta', ARGV[2], 'open', #paths)
-- The paths that go in queued are one field (`queued`, one a line, at `queuedAt`): a path gets a
-- status field of its own (`p:<path>`) only when it goes in covered or its status changes.
local queued_paths, statuses = {}, {}
local coalesced = 0
local together, one_by_one = {}, {}
for i, domain in ipairs(domains) do
  if otype == 'File' and promote_at == 0 and dirless(domain) then
    together[#together + 1] = i
  else
    one_by_one[#one_by_one + 1] = i
  end
end
if #together > 0 then coalesced = coalesced + pend_files_together(together, { rid }, queued_paths) end
for _, i in ipairs(one_by_one) do
  local path, domain = paths[i], domains[i]
  local joined, dir = pend_path(backlog, otype, path, domain, lane, { rid }, now, window)
  if joined then coalesced = coalesced + 1 end
  if dir then
    statuses[#statuses + 1] = 'p:' .. path
    statuses[#statuses + 1] = cjson.encode({ state = 'queued', updatedAt = now, coveredBy = dir })
  else
    queued_paths[#queued_paths + 1] = path
  end
  if promote_at > 0 and otype == 'File' and not dir then
    local parent = parent_of(path)
    local files_key = keyspace.files(domain)
    if parent and redis.call('ZLEXCOUNT', files_key, '[' .. parent, '[' .. parent .. '\255') >= promote_at then
      pend_path(backlog, 'Directory', parent, domain, lane, {}, now, window)
      local dir_meta_key = keyspace.pendingMeta('Directory')
      local pmeta = cjson.decode(redis.call('HGET', dir_meta_key, parent) or '{}')
      if pmeta.domain then
        pmeta.promoted = true
        redis.call('HSET', dir_meta_key, parent, cjson.encode(pmeta))
      end
    end
  end
end
if #queued_paths > 0 then redis.call('HSET', request_key, 'queued', table.concat(queued_paths, '\n'), 'queuedAt', now) end
in_chunks('HSET', request_key, statuses, 1000)
refresh_pended(now, window, max_files, max_dirs)
redis.call('EXPIRE', request_key, retention)
index_request(request_index, rid, received_at, retention, keep, index_type, index_type == '' and {} or paths)
return 1 + coalesced
