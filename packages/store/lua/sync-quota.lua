-- Folds in what DescribeVodRefreshQuota reported, so quota spent by other tools on the same
-- account is respected: today's budget is at most the upstream's quota, and today's use at
-- least what the upstream counts as used.
-- ARGV: prefix, object type, upstream quota, upstream remaining, utc offset minutes, clock mode
--@include lib/clock.lua
--@include lib/quota.lua
local prefix, otype = ARGV[1], ARGV[2]
local quota, remain, offset, clock_mode = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local now = quota_now(prefix, clock_mode)
local day = day_index(now, offset)
redis.call('SET', prefix .. 'quota:upstream:' .. otype .. ':' .. day, quota, 'PX', 2 * DAY)
local dkey = day_key(prefix, otype, day)
local used = quota - remain
if used > (tonumber(redis.call('GET', dkey)) or 0) then redis.call('SET', dkey, used, 'PX', 2 * DAY) end
return used
