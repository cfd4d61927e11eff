-- Shared helpers of the quota scripts (take, settle, sync), included by the loader after lib/clock.lua.
-- All times are on the governor's clock: Redis TIME, plus the offset stored under
-- `{ns}:clock-offset` when the clock mode is 'offset' (tests only; production passes 'redis').

local MINUTE, DAY = 60000, 86400000

local function quota_now(prefix, clock_mode)
  local now = now_ms()
  if clock_mode == 'offset' then now = now + (tonumber(redis.call('GET', prefix .. 'clock-offset')) or 0) end
  return now
end

local function day_index(now, offset_minutes)
  return math.floor((now + offset_minutes * MINUTE) / DAY)
end

local function next_day_start(now, offset_minutes)
  return (day_index(now, offset_minutes) + 1) * DAY - offset_minutes * MINUTE
end

local function day_key(prefix, otype, day)
  return prefix .. 'quota:day:' .. otype .. ':' .. day
end

local function minute_key(prefix, otype)
  return prefix .. 'quota:minute:' .. otype
end

local function minute_sum_key(prefix, otype)
  return prefix .. 'quota:minute-sum:' .. otype
end

local function units_of(member)
  return tonumber(string.match(member, '|(%d+)$'))
end

-- Log members are `<ticket>|<units>`, with their running sum beside the log. Ages out the
-- entries older than a minute and returns the units granted in (now - 1 min, now].
local function minute_used(prefix, otype, now)
  local key, sum_key = minute_key(prefix, otype), minute_sum_key(prefix, otype)
  local expired = redis.call('ZRANGEBYSCORE', key, '-inf', now - MINUTE)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do freed = freed + units_of(member) end
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - MINUTE)
    redis.call('DECRBY', sum_key, freed)
  end
  if redis.call('EXISTS', key) == 0 then
    redis.call('DEL', sum_key)
    return 0
  end
  return tonumber(redis.call('GET', sum_key)) or 0
end

local function log_grant(prefix, otype, now, member, units)
  redis.call('ZADD', minute_key(prefix, otype), now, member)
  redis.call('INCRBY', minute_sum_key(prefix, otype), units)
  redis.call('PEXPIRE', minute_key(prefix, otype), 2 * MINUTE)
  redis.call('PEXPIRE', minute_sum_key(prefix, otype), 2 * MINUTE)
end

-- The per-minute budget in force: the configured one, or less once the upstream taught us so.
local function minute_budget(prefix, otype, configured)
  local learned = tonumber(redis.call('GET', prefix .. 'quota:learned-minute:' .. otype))
  if learned and learned < configured then return learned end
  return configured
end

local function calls_budget(prefix, configured)
  local learned = tonumber(redis.call('GET', prefix .. 'quota:learned-cps'))
  if learned and learned < configured then return math.max(1, math.floor(learned)) end
  return configured
end

-- The daily budget in force: the configured one, or the upstream's own when it reported less.
local function day_budget(prefix, otype, day, configured)
  local upstream = tonumber(redis.call('GET', prefix .. 'quota:upstream:' .. otype .. ':' .. day))
  if upstream and upstream < configured then return upstream end
  return configured
end

local function hold(prefix, scope, until_ms, reason)
  local key = prefix .. 'quota:hold:' .. scope
  local current = tonumber(redis.call('HGET', key, 'until'))
  if current and current >= until_ms then return end
  redis.call('HSET', key, 'until', until_ms, 'reason', reason)
  redis.call('PEXPIRE', key, math.max(1, until_ms - quota_now(prefix, 'redis') + DAY))
end

local function held_until(prefix, scope, now)
  local key = prefix .. 'quota:hold:' .. scope
  local until_ms = tonumber(redis.call('HGET', key, 'until'))
  if until_ms and until_ms > now then return until_ms, redis.call('HGET', key, 'reason') end
  return nil, nil
end
