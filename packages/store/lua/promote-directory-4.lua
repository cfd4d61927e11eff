-- Promotes a directory under pressure (docs/scarcity.md): pends a refresh of `directory` in place
-- of the pending files under it, which it absorbs (their requests will see its outcome, and
-- their statuses say so now: coveredBy with the reason). Only while a directory unit is free
-- today beyond the directories already pending (so a promotion never strands explicit
-- directory requests, nor the files it absorbs), and only when it covers at least min files.
-- The workers choose the directory (scarcity.ts choosePromotions); this step re-checks and acts.
-- KEYS[1] backlog
-- KEYS[2] callbacksDue
-- KEYS[3] quotaDay       of Directory and today
-- KEYS[4] upstreamDay    of Directory and today
-- ARGV: directory, domain, directory budget per day (configured), min files, window ms,
--       max files per call, max dirs per call, reason
-- Returns the number of files absorbed, or 0 when nothing was done: -1 no directory unit free,
-- -2 fewer than min files pending under it, -3 already pending or covered.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
--@include lib/requests.lua
local backlog, callbacks_due, day_key, upstream_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local dir, domain, budget_cfg, min_files = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local window, max_files, max_dirs, reason = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local now = now_ms()

if redis.call('HEXISTS', keyspace.pendingMeta('Directory'), dir) == 1 or covering_dir(domain, dir, 'Directory') then
  return -3
end

local budget = budget_cfg
local upstream = tonumber(redis.call('GET', upstream_key))
if upstream and upstream < budget then budget = upstream end
local pending_dirs = 0
for _, lane in ipairs({ 'high', 'normal', 'low' }) do
  pending_dirs = pending_dirs + (tonumber(redis.call('HGET', backlog, 'Directory:' .. lane)) or 0)
end
if budget - (tonumber(redis.call('GET', day_key)) or 0) - pending_dirs < 1 then return -1 end

local files = redis.call('ZRANGEBYLEX', keyspace.files(domain), '[' .. dir, '[' .. dir .. '\255')
if #files < min_files then return -2 end

local covered = cjson.encode({ state = 'queued', updatedAt = now, coveredBy = dir, coverReason = reason })
for _, path in ipairs(files) do
  local file_meta = cjson.decode(redis.call('HGET', keyspace.pendingMeta('File'), path) or '{}')
  for _, rid in ipairs(linked_requests('File', path, file_meta)) do
    write_status(callbacks_due, rid, path, cjson.decode(covered), now)
  end
end
-- Pended for no request of its own, in the lowest lane: absorbing lifts it to the highest lane
-- of the files it takes in.
pend_path(backlog, 'Directory', dir, domain, 'low', {}, now, window)
refresh_pended(now, window, max_files, max_dirs)
local meta_key = keyspace.pendingMeta('Directory')
local meta = cjson.decode(redis.call('HGET', meta_key, dir))
meta.promoted = true
meta.promotedReason = reason
redis.call('HSET', meta_key, dir, cjson.encode(meta))
return #files
