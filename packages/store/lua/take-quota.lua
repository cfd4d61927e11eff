-- Takes quota for one batch, all it is granted or nothing: up to `want` units of one object
-- type, within every budget at once. The per-minute budget is a sliding log of grants: a grant
-- goes only if the units granted in the last 60 s plus it fit, so no 60-second window, sliding
-- or aligned, carries more than the budget. Lanes other than `high` may not use the reserved
-- share of the day. One call token is taken per grant (calls per second).
-- ARGV: prefix, object type, lane, want, ticket, day budget, minute budget, calls per second,
--       high reserve percent, utc offset minutes, clock mode
-- Returns {granted, day index, now} or {0, wait ms, short budget}. Idempotent per ticket.
--@include lib/clock.lua
--@include lib/quota.lua
local prefix, otype, lane, want, ticket = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local day_cfg, minute_cfg, cps_cfg = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local reserve_pct, offset, clock_mode = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
local now = quota_now(prefix, clock_mode)

-- A re-sent call (reply lost) gets the grant already made under this ticket, not a second one.
local grant_key = prefix .. 'quota:grant:' .. ticket
local earlier = redis.call('GET', grant_key)
if earlier then
  local granted, day, at = string.match(earlier, '^(%d+)|(%d+)|(%d+)$')
  return { tonumber(granted), tonumber(day), tonumber(at) }
end

for _, scope in ipairs({ otype, 'calls' }) do
  local until_ms, reason = held_until(prefix, scope, now)
  if until_ms then return { 0, until_ms - now, 'hold:' .. reason } end
end

local calls_key = prefix .. 'quota:calls'
redis.call('ZREMRANGEBYSCORE', calls_key, '-inf', now - 1000)
if redis.call('ZCARD', calls_key) >= calls_budget(prefix, cps_cfg) then
  local oldest = tonumber(redis.call('ZRANGE', calls_key, 0, 0, 'WITHSCORES')[2])
  return { 0, math.max(1, oldest + 1000 - now), 'calls-per-second' }
end

local day = day_index(now, offset)
local budget = day_budget(prefix, otype, day, day_cfg)
local limit = budget
if lane ~= 'high' then limit = math.floor(budget * (100 - reserve_pct) / 100) end
local day_left = limit - (tonumber(redis.call('GET', day_key(prefix, otype, day))) or 0)
if day_left <= 0 then
  local short = 'day'
  if limit < budget then short = 'day-reserved-for-high' end
  return { 0, next_day_start(now, offset) - now, short }
end

local minute_left = minute_budget(prefix, otype, minute_cfg) - minute_used(prefix, otype, now)
if minute_left <= 0 then
  -- Wait until enough of the log ages out to free one unit.
  local oldest = tonumber(redis.call('ZRANGE', minute_key(prefix, otype), 0, 0, 'WITHSCORES')[2]) or now
  return { 0, math.max(1, oldest + MINUTE - now + 1), 'minute' }
end

local granted = math.min(want, minute_left, day_left)
log_grant(prefix, otype, now, ticket .. '|' .. granted, granted)
redis.call('INCRBY', day_key(prefix, otype, day), granted)
redis.call('PEXPIRE', day_key(prefix, otype, day), 2 * DAY)
redis.call('ZADD', calls_key, now, ticket)
redis.call('PEXPIRE', calls_key, 60000)
redis.call('SET', grant_key, granted .. '|' .. day .. '|' .. now, 'PX', 10 * MINUTE)
return { granted, day, now }
