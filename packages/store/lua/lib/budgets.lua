-- Shared helpers of the quota scripts (take, settle, sync), included by the loader after
-- lib/clock.lua. Every key arrives as an argument.
-- All times are on the governor's clock: Redis TIME, plus the value of `{ns}:clock-offset` when
-- the clock mode is 'offset' (tests only; production passes 'redis').

local MINUTE, DAY = 60000, 86400000

local function quota_now(clock_offset_key, clock_mode)
  local now = now_ms()
  if clock_mode == 'offset' then now = now + (tonumber(redis.call('GET', clock_offset_key)) or 0) end
  return now
end

local function day_index(now, offset_minutes)
  return math.floor((now + offset_minutes * MINUTE) / DAY)
end

local function next_day_start(now, offset_minutes)
  return (day_index(now, offset_minutes) + 1) * DAY - offset_minutes * MINUTE
end

local function units_of(member)
  return tonumber(string.match(member, '|(%d+)$'))
end

-- Log members are `<ticket>|<units>`, with their running sum beside the log. Ages out the
-- entries older than a minute and returns the units granted in (now - 1 min, now].
local function minute_used(log_key, sum_key, now)
  local expired = redis.call('ZRANGEBYSCORE', log_key, '-inf', now - MINUTE)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do freed = freed + units_of(member) end
    redis.call('ZREMRANGEBYSCORE', log_key, '-inf', now - MINUTE)
    redis.call('DECRBY', sum_key, freed)
  end
  if redis.call('EXISTS', log_key) == 0 then
    redis.call('DEL', sum_key)
    return 0
  end
  return tonumber(redis.call('GET', sum_key)) or 0
end

local function log_grant(log_key, sum_key, now, member, units)
  redis.call('ZADD', log_key, now, member)
  redis.call('INCRBY', sum_key, units)
  redis.call('PEXPIRE', log_key, 2 * MINUTE)
  redis.call('PEXPIRE', sum_key, 2 * MINUTE)
end

-- The budget in force: the configured one, or less once the upstream taught us so.
local function minute_budget(learned_minute_key, configured)
  local learned = tonumber(redis.call('GET', learned_minute_key))
  if learned and learned < configured then return learned end
  return configured
end

local function calls_budget(learned_cps_key, configured)
  local learned = tonumber(redis.call('GET', learned_cps_key))
  if learned and learned < configured then return math.max(1, math.floor(learned)) end
  return configured
end

-- The daily budget in force: the configured one, or the upstream's own when it reported less.
local function day_budget(upstream_day_key, configured)
  local upstream = tonumber(redis.call('GET', upstream_day_key))
  if upstream and upstream < configured then return upstream end
  return configured
end

-- Holds a budget (its `{ns}:quota:hold:*` key) until `until_ms`, unless a longer hold is in force.
-- `now` is the governor's clock, the one `until_ms` and held_until are on (with QUOTA_CLOCK=offset
-- it is not Redis' TIME: measured on that, a hold in a shifted day expired at once).
local function hold(hold_key, until_ms, reason, now)
  local current = tonumber(redis.call('HGET', hold_key, 'until'))
  if current and current >= until_ms then return end
  redis.call('HSET', hold_key, 'until', until_ms, 'reason', reason)
  redis.call('PEXPIRE', hold_key, math.max(1, until_ms - now + DAY))
end

local function held_until(hold_key, now)
  local until_ms = tonumber(redis.call('HGET', hold_key, 'until'))
  if until_ms and until_ms > now then return until_ms, redis.call('HGET', hold_key, 'reason') end
  return nil, nil
end
