-- Records what following a media refresh job found, on every (request, media) of the job: each
-- media's state and its play URLs with their tasks (decided by the worker from GetMediaRefreshJobs
-- and DescribeVodRefreshTasks; media-progress.ts). A media whose job failed for quota goes back to
-- the pending pool instead (running out of quota delays work, never fails it): queued again on its
-- requests, and pending again, or joined to a copy pending meanwhile. Ended: the job is forgotten;
-- else its progress is kept with it and it is due again after `next` ms.
-- The job is tracked like a refresh task: `{ns}:task:<id>` maps `requestId<TAB>item` to '' (from
-- finish-batch-7.lua), with `_meta` (type, submittedAt, domain) and `_progress` (this script's).
-- KEYS[1] task           the job's (its tracking id)
-- KEYS[2] tracking
-- KEYS[3] callbacksDue
-- KEYS[4] backlog
-- ARGV: tracking id, ended ('1'/'0'), next poll ms, progress JSON,
--       JSON {media id: {state, playUrls, error?}}, JSON {media id: {delayMs}} (requeue), window ms
-- Returns the ids of requests touched.
--@include keyspace
--@include lib/clock.lua
--@include lib/pool.lua
--@include lib/requests.lua
local task_key, tracking_key, callbacks_due, backlog = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_ms()
local job_id, ended, next_poll, progress = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3]), ARGV[4]
local statuses, requeues, window = cjson.decode(ARGV[5]), cjson.decode(ARGV[6]), tonumber(ARGV[7])
local job_meta = cjson.decode(redis.call('HGET', task_key, '_meta') or '{}')
local touched, back = {}, {}

for _, field in ipairs(redis.call('HKEYS', task_key)) do
  if string.sub(field, 1, 1) ~= '_' then
    local sep = string.find(field, '\t', 1, true)
    local rid, item = string.sub(field, 1, sep - 1), string.sub(field, sep + 1)
    local media_id = string.match(item, '^[^:]*')
    local req_key = keyspace.request(rid)
    local old_raw = redis.call('HGET', req_key, 'p:' .. item)
    local old = old_raw and cjson.decode(old_raw)
    -- Only a status this job wrote last is its to change (a media submitted again has a new job).
    local ours = old and old.taskId == job_id and not TERMINAL[old.state]
    if ours and requeues[media_id] then
      write_status(callbacks_due, rid, item, { state = 'queued', updatedAt = now }, now)
      local entry = back[item] or { rids = {}, lane = 'low', delay = tonumber(requeues[media_id].delayMs) or 0 }
      entry.rids[#entry.rids + 1] = rid
      local meta_raw = redis.call('HGET', req_key, 'meta')
      if meta_raw then entry.lane = higher_lane(cjson.decode(meta_raw).priority or 'normal', entry.lane) end
      back[item] = entry
      redis.call('HDEL', task_key, field)
      touched[rid] = true
    elseif ours and statuses[media_id] then
      local seen = statuses[media_id]
      old.state = seen.state
      old.playUrls = seen.playUrls
      old.error = seen.error
      old.updatedAt = now
      if seen.state == 'complete' or seen.state == 'failed' then old.completedAt = now end
      write_status(callbacks_due, rid, item, old, now)
      touched[rid] = true
    end
  end
end

-- Back to the pool, as finish-batch-7.lua requeues: joined to a newer pending copy if there is
-- one, parked while another copy is in flight.
local otype, domain = job_meta.objectType, job_meta.domain
for item, entry in pairs(back) do
  if otype and domain then
    local pmeta_key = keyspace.pendingMeta(otype)
    local lane = entry.lane
    local existing = redis.call('HGET', pmeta_key, item)
    if existing then
      lane = cjson.decode(existing).lane
    else
      local eligible_at = now + entry.delay
      if redis.call('SISMEMBER', keyspace.inflightPaths(otype), item) == 1 then eligible_at = PARKED end
      add_pending(backlog, otype, item, eligible_at, { domain = domain, lane = lane, queuedAt = now, lastSeenAt = now, attempts = 0 })
    end
    link(otype, item, nil, entry.rids)
    refresh_ready(keyspace.ready(otype, lane), keyspace.pending(otype, lane, domain), domain, now, window, 20)
  end
end

local remaining = 0
for _, field in ipairs(redis.call('HKEYS', task_key)) do
  if string.sub(field, 1, 1) ~= '_' then remaining = remaining + 1 end
end
if ended or remaining == 0 then
  redis.call('DEL', task_key)
  redis.call('ZREM', tracking_key, job_id)
else
  redis.call('HSET', task_key, '_progress', progress)
  redis.call('ZADD', tracking_key, now + next_poll, job_id)
end
local ids = {}
for rid in pairs(touched) do ids[#ids + 1] = rid end
return ids
