-- Claims members of a schedule (a sorted set of id → due time) that are due: each is rescheduled
-- `lease` ms ahead, so no other worker takes it meanwhile, and a worker that dies leaves it due
-- again after the lease. Used for refresh tasks to follow and callbacks to send.
-- KEYS[1] schedule   tracking or callbacksDue
-- ARGV: max, lease ms
-- Returns the ids claimed.
--@include lib/clock.lua
local now = now_ms()
local key = KEYS[1]
local lease = tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(ids) do redis.call('ZADD', key, now + lease, id) end
return ids
