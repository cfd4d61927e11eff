-- Corrects today's use of a budget by what a call was found to cost after the fact: a media
-- refresh job reports how many play URLs it really submitted, where the grant reserved an
-- estimate. A positive delta charges more, a negative one gives back (never below 0).
-- KEYS[1] clockOffset
-- ARGV: budget family (object type), delta units, utc offset minutes, clock mode
-- Returns today's units used afterwards.
--@include keyspace
--@include lib/clock.lua
--@include lib/budgets.lua
local otype, delta, offset, clock_mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local now = quota_now(KEYS[1], clock_mode)
local key = keyspace.quotaDay(otype, day_index(now, offset))
local used = math.max(0, (tonumber(redis.call('GET', key)) or 0) + delta)
redis.call('SET', key, used, 'PX', 2 * DAY)
return used
