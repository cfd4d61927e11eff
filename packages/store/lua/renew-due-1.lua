-- The heartbeat of a worker holding members of a schedule it claimed with claim-due-1.lua
-- (tasks to follow, callbacks to send): each given id still on the schedule is leased `lease` ms
-- past now again. The holder names only ids it still holds: one it has recorded (rescheduled or
-- removed) is never named again, and its commands reach Redis in order on one connection, so a
-- renewal never overrides what the holder recorded. An id no longer on the schedule is left out.
-- KEYS[1] schedule   tracking or callbacksDue
-- ARGV: lease ms, then the ids
-- Returns how many ids were renewed.
--@include lib/clock.lua
local key = KEYS[1]
local until_ms = now_ms() + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', key, ARGV[i]) then
    redis.call('ZADD', key, 'XX', until_ms, ARGV[i])
    renewed = renewed + 1
  end
end
return renewed
