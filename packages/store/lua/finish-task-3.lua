-- Records what DescribeVodRefreshTasks said of one task on every (request, path) it covers.
-- Ended: each path becomes complete or failed (with the upstream's description), the task is
-- forgotten. Still running: paths become refreshing and the task is due again after `next` ms.
-- A path the upstream did not list is left as it is, unless `unlisted` says what it becomes (the
-- last look before giving up: `unconfirmed`). An `unconfirmed` path carries the reason as its
-- error (code TaskUnconfirmed); a later answer may still make it complete or failed, never
-- refreshing again.
-- KEYS[1] task           the task id's
-- KEYS[2] tracking
-- KEYS[3] callbacksDue
-- ARGV: task id, ended ('1'/'0'), next poll ms, JSON {submitted path: {state, description}},
--       JSON {state, description} for paths not listed ('' = leave them)
-- Returns {ids of requests touched, number of (request, path) pairs made unconfirmed}.
--@include keyspace
--@include lib/requests.lua
--@include lib/clock.lua
local task_key, tracking_key, callbacks_due = KEYS[1], KEYS[2], KEYS[3]
local now = now_ms()
local task_id, ended, next_poll = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local by_path = cjson.decode(ARGV[4])
local unlisted = nil
if ARGV[5] ~= nil and ARGV[5] ~= '' then unlisted = cjson.decode(ARGV[5]) end
local touched = {}
local unconfirmed = 0

for _, field in ipairs(redis.call('HKEYS', task_key)) do
  if field ~= '_meta' then
    local sep = string.find(field, '\t', 1, true)
    local rid, path = string.sub(field, 1, sep - 1), string.sub(field, sep + 1)
    local covered_by = redis.call('HGET', task_key, field)
    local submitted_path = path
    if covered_by ~= '' then submitted_path = covered_by end
    local seen = by_path[submitted_path] or unlisted
    local req_key = keyspace.request(rid)
    local old_raw = redis.call('HGET', req_key, 'p:' .. path)
    if seen and old_raw then
      local status = cjson.decode(old_raw)
      local ours = status.taskId == task_id or string.find(',' .. tostring(status.taskId) .. ',', ',' .. task_id .. ',', 1, true)
      local settled = status.state == 'complete' or status.state == 'failed'
      local backwards = status.state == 'unconfirmed' and (seen.state == 'refreshing' or seen.state == 'unconfirmed')
      if ours and not settled and not backwards then
        status.taskId = task_id
        status.state = seen.state
        status.updatedAt = now
        status.error = nil
        if seen.state ~= 'refreshing' then status.completedAt = now end
        if seen.state == 'failed' then status.error = { code = 'TaskFailed', message = seen.description or '' } end
        if seen.state == 'unconfirmed' then
          status.completedAt = nil
          status.error = { code = 'TaskUnconfirmed', message = seen.description or '' }
          unconfirmed = unconfirmed + 1
        end
        write_status(callbacks_due, rid, path, status, now)
        touched[rid] = true
      end
    end
  end
end

if ended then
  redis.call('DEL', task_key)
  redis.call('ZREM', tracking_key, task_id)
else
  redis.call('ZADD', tracking_key, now + next_poll, task_id)
end
local ids = {}
for rid in pairs(touched) do ids[#ids + 1] = rid end
return { ids, unconfirmed }
