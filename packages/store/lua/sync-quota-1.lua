-- Folds in what DescribeVodRefreshQuota reported, so quota spent by other tools on the same
-- account is respected: today's budget is at most the upstream's quota, and today's use at
-- least what the upstream counts as used. Today's keys depend on the governor's clock, so they
-- are built, not given.
-- KEYS[1] clockOffset
-- ARGV: object type, upstream quota, upstream remaining, utc offset minutes, clock mode
-- Returns today's units used.
--@include keyspace
--@include lib/clock.lua
--@include lib/budgets.lua
local otype = ARGV[1]
local quota, remain, offset, clock_mode = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local now = quota_now(KEYS[1], clock_mode)
local day = day_index(now, offset)
redis.call('SET', keyspace.upstreamDay(otype, day), quota, 'PX', 2 * DAY)
local dkey = keyspace.quotaDay(otype, day)
local used = quota - remain
if used > (tonumber(redis.call('GET', dkey)) or 0) then redis.call('SET', dkey, used, 'PX', 2 * DAY) end
return used
