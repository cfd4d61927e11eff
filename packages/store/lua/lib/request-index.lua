-- Shared helper of the scripts that index an admitted request for the operator (included by the
-- loader, after keyspace): in the newest-first list of requests (GET /v1/refreshes; entries older
-- than the statuses' retention are dropped), and on the latest requests of each of its paths
-- (GET /v1/paths; at most `keep` a path and day, in the hash of the UTC day it was received,
-- which expires the statuses' retention after that day ends). Key layout: docs/architecture.md.

local DAY_MS = 86400000

-- A path's entries (`<receivedAt>:<request id>`, space-separated) with `entry` appended, the
-- oldest leaving from the front once there are `keep`; nil when `rid` is there already.
local function with_entry(entries, entry, rid, keep)
  if not entries then return entry end
  if string.find(entries, rid, 1, true) then return nil end
  local list = {}
  for kept in string.gmatch(entries, '%S+') do list[#list + 1] = kept end
  list[#list + 1] = entry
  return table.concat(list, ' ', math.max(1, #list - keep + 1))
end

-- `request_index` is the script's `{ns}:requests` KEY; `paths` the request's (none for media).
local function index_request(request_index, rid, received_at, retention, keep, otype, paths)
  redis.call('ZADD', request_index, received_at, rid)
  redis.call('ZREMRANGEBYSCORE', request_index, '-inf', '(' .. string.format('%d', received_at - retention * 1000))
  if #paths == 0 then return end
  local day = math.floor(received_at / DAY_MS)
  local bucket, days = keyspace.pathRequestsByDay(otype, day), keyspace.pathRequestDays(otype)
  local entry = string.format('%d', received_at) .. ':' .. rid
  for i = 1, #paths, 1000 do
    local last = math.min(i + 999, #paths)
    local found = redis.call('HMGET', bucket, unpack(paths, i, last))
    local fields = {}
    for j = i, last do
      local value = with_entry(found[j - i + 1], entry, rid, keep)
      if value then
        fields[#fields + 1] = paths[j]
        fields[#fields + 1] = value
      end
    end
    if #fields > 0 then redis.call('HSET', bucket, unpack(fields)) end
  end
  -- A day's hash ends the retention after the day does: set once, when the first write made it.
  if redis.call('TTL', bucket) < 0 then
    redis.call('EXPIRE', bucket, retention + math.ceil(((day + 1) * DAY_MS - received_at) / 1000))
    redis.call('ZADD', days, day, day)
    redis.call('ZREMRANGEBYSCORE', days, '-inf', '(' .. (day - math.ceil(retention / 86400) - 1))
    redis.call('EXPIRE', days, retention + 2 * 86400)
  end
end
