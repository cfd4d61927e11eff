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

-- The directory a file sits in: everything up to the last '/' before any query.
local function parent_of(path)
  local bare = string.match(path, '^[^?]*')
  return string.match(bare, '^(.*/)[^/]*$')
end

redis.call('HSET', request_key, 'meta', ARGV[2], 'open', (#ARGV - 9) / 2)
local coalesced = 0
for i = 10, #ARGV, 2 do
  local path, domain = ARGV[i], ARGV[i + 1]
  local joined, dir = pend_path(backlog, otype, path, domain, lane, { rid }, now, window, max_files, max_dirs)
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
      pend_path(backlog, 'Directory', parent, domain, lane, {}, now, window, max_files, max_dirs)
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
