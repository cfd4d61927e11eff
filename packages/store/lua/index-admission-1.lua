-- Indexes an admitted request for the operator: in the newest-first list of requests
-- (GET /v1/refreshes; entries older than the statuses' retention are dropped), and on the latest
-- requests of each of its paths (GET /v1/paths; at most `keep` per path and day, in the hash of
-- the day it was received, which expires the statuses' retention after that day ends).
-- Idempotent: a request indexed again (BullMQ ran its job twice) changes nothing.
-- KEYS[1] requestIndex
-- ARGV: request id, receivedAt (ms), retention s, keep per path, object type, then the paths
-- Returns 1.
--@include keyspace
local DAY_MS = 86400000
local request_index = KEYS[1]
local rid, received_at, retention, keep, otype = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZADD', request_index, received_at, rid)
redis.call('ZREMRANGEBYSCORE', request_index, '-inf', '(' .. (received_at - retention * 1000))

local day = math.floor(received_at / DAY_MS)
local bucket, days = keyspace.pathRequestsByDay(otype, day), keyspace.pathRequestDays(otype)
local entry = received_at .. ':' .. rid
-- A path's entries are appended, so the oldest leave from the front once there are `keep`.
local function with_entry(entries)
  if not entries then return entry end
  if string.find(entries, rid, 1, true) then return nil end
  if keep <= 1 then return entry end
  local kept = entries
  local _, count = string.gsub(kept, ' ', ' ')
  while count + 1 >= keep do
    kept = string.sub(kept, string.find(kept, ' ', 1, true) + 1)
    count = count - 1
  end
  return kept .. ' ' .. entry
end
for i = 6, #ARGV, 1000 do
  local last = math.min(i + 999, #ARGV)
  local found = redis.call('HMGET', bucket, unpack(ARGV, i, last))
  local fields = {}
  for j = i, last do
    local value = with_entry(found[j - i + 1])
    if value then
      fields[#fields + 1] = ARGV[j]
      fields[#fields + 1] = value
    end
  end
  if #fields > 0 then redis.call('HSET', bucket, unpack(fields)) end
end
-- From receivedAt (a request indexed again sets the same end): the day, then the retention.
redis.call('EXPIRE', bucket, retention + math.ceil(((day + 1) * DAY_MS - received_at) / 1000))
redis.call('ZADD', days, day, day)
redis.call('ZREMRANGEBYSCORE', days, '-inf', '(' .. (day - math.ceil(retention / 86400) - 1))
redis.call('EXPIRE', days, retention + 2 * 86400)
return 1
