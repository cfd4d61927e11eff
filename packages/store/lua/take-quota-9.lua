-- Takes quota for one batch, all it is granted or nothing: up to `want` units of one object
-- type, within every budget at once. The per-minute budget is a sliding log of grants: a grant
-- goes only if the units granted in the last 60 s plus it fit, so no 60-second window, sliding
-- or aligned, carries more than the budget. Lanes other than `high` may not use the reserved
-- share of the day. One call token is taken per grant (calls per second). The "object type" is the
-- budget family the units come from (File, Directory, Preload: work-kinds.ts); the calls keys are
-- those of the call's action (RefreshVodObjectCaches', or another action's own scope).
-- KEYS[1] grant            the ticket's
-- KEYS[2] hold             of the type
-- KEYS[3] callsHold        of the action (callsHold, or scopedCallsHold)
-- KEYS[4] quotaCalls       of the action (quotaCalls, or scopedCalls)
-- KEYS[5] learnedCps       of the action (learnedCps, or scopedLearnedCps)
-- KEYS[6] quotaMinute      of the type
-- KEYS[7] quotaMinuteSum   of the type
-- KEYS[8] learnedMinute    of the type
-- KEYS[9] clockOffset
-- ARGV: object type, lane, want, ticket, day budget, minute budget, calls per second,
--       high reserve percent, utc offset minutes, clock mode
-- Returns {granted, day index, now} or {0, wait ms, short budget}. Idempotent per ticket.
--@include keyspace
--@include lib/clock.lua
--@include lib/budgets.lua
local grant_key, hold_key, calls_hold_key, calls_key, learned_cps_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local minute_key, minute_sum_key, learned_minute_key, clock_offset_key = KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local otype, lane, want, ticket = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local day_cfg, minute_cfg, cps_cfg = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local reserve_pct, offset, clock_mode = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local now = quota_now(clock_offset_key, clock_mode)

-- A re-sent call (reply lost) gets the grant already made under this ticket, not a second one.
local earlier = redis.call('GET', grant_key)
if earlier then
  local granted, day, at = string.match(earlier, '^(%d+)|(%d+)|(%d+)$')
  return { tonumber(granted), tonumber(day), tonumber(at) }
end

for _, key in ipairs({ hold_key, calls_hold_key }) do
  local until_ms, reason = held_until(key, now)
  if until_ms then return { 0, until_ms - now, 'hold:' .. reason } end
end

redis.call('ZREMRANGEBYSCORE', calls_key, '-inf', now - 1000)
if redis.call('ZCARD', calls_key) >= calls_budget(learned_cps_key, cps_cfg) then
  local oldest = tonumber(redis.call('ZRANGE', calls_key, 0, 0, 'WITHSCORES')[2])
  return { 0, math.max(1, oldest + 1000 - now), 'calls-per-second' }
end

local day = day_index(now, offset)
local day_key = keyspace.quotaDay(otype, day)
local budget = day_budget(keyspace.upstreamDay(otype, day), day_cfg)
local limit = budget
if lane ~= 'high' then limit = math.floor(budget * (100 - reserve_pct) / 100) end
local day_left = limit - (tonumber(redis.call('GET', day_key)) or 0)
if day_left <= 0 then
  local short = 'day'
  if limit < budget then short = 'day-reserved-for-high' end
  return { 0, next_day_start(now, offset) - now, short }
end

local minute_left = minute_budget(learned_minute_key, minute_cfg) - minute_used(minute_key, minute_sum_key, now)
if minute_left <= 0 then
  -- Wait until enough of the log ages out to free one unit.
  local oldest = tonumber(redis.call('ZRANGE', minute_key, 0, 0, 'WITHSCORES')[2]) or now
  return { 0, math.max(1, oldest + MINUTE - now + 1), 'minute' }
end

local granted = math.min(want, minute_left, day_left)
log_grant(minute_key, minute_sum_key, now, ticket .. '|' .. granted, granted)
redis.call('INCRBY', day_key, granted)
redis.call('PEXPIRE', day_key, 2 * DAY)
redis.call('ZADD', calls_key, now, ticket)
redis.call('PEXPIRE', calls_key, 60000)
redis.call('SET', grant_key, granted .. '|' .. day .. '|' .. now, 'PX', 10 * MINUTE)
return { granted, day, now }
