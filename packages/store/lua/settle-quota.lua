-- Settles a grant after the call: units not spent go back (a refused call spends nothing; a
-- batch smaller than its grant returns the rest); a success raises a lowered per-minute budget
-- and call rate slowly; and the hold the reaction table decided is put in force. This script
-- never interprets an upstream code: the hold arrives decided (which budget, until when, tuning).
-- ARGV: prefix, object type, ticket, granted, day index, units spent, answer ('success' |
--       'refused' | 'unused' | 'uncertain'), hold budget ('' | 'type' | 'calls'), hold until
--       ('next-minute' | 'next-quota-day' | 'after'), hold ms (for 'after'), tune ('' |
--       'lower-minute' | 'halve-call-rate'), hold reason, minute budget, calls per second,
--       utc offset minutes, clock mode
-- Returns the per-minute budget in force afterwards.
--@include lib/clock.lua
--@include lib/quota.lua
local prefix, otype, ticket = ARGV[1], ARGV[2], ARGV[3]
local granted, day, spent = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local answer = ARGV[7]
local hold_budget, hold_until, hold_ms, tune, reason = ARGV[8], ARGV[9], tonumber(ARGV[10]), ARGV[11], ARGV[12]
local minute_cfg, cps_cfg, offset, clock_mode = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15]), ARGV[16]
local now = quota_now(prefix, clock_mode)
local mkey = minute_key(prefix, otype)

-- Settle once per ticket: a re-sent call (reply lost) must not refund or tune twice.
if redis.call('SET', prefix .. 'quota:settled:' .. ticket, '1', 'NX', 'PX', 10 * MINUTE) == false then
  return minute_budget(prefix, otype, minute_cfg)
end
local member = ticket .. '|' .. granted

if spent < granted then
  local score = redis.call('ZSCORE', mkey, member)
  if score then
    redis.call('ZREM', mkey, member)
    redis.call('DECRBY', minute_sum_key(prefix, otype), granted - spent)
    if spent > 0 then redis.call('ZADD', mkey, score, ticket .. '|' .. spent) end
  end
  local dkey = day_key(prefix, otype, day)
  if redis.call('EXISTS', dkey) == 1 then redis.call('DECRBY', dkey, granted - spent) end
end

local learned_key = prefix .. 'quota:learned-minute:' .. otype
local cps_key = prefix .. 'quota:learned-cps'
if answer == 'success' then
  local learned = tonumber(redis.call('GET', learned_key))
  if learned then
    learned = learned + math.max(1, math.ceil(minute_cfg / 100))
    if learned >= minute_cfg then redis.call('DEL', learned_key) else redis.call('SET', learned_key, learned) end
  end
  local cps = tonumber(redis.call('GET', cps_key))
  if cps then
    cps = cps + 0.1
    if cps >= cps_cfg then redis.call('DEL', cps_key) else redis.call('SET', cps_key, cps) end
  end
end

if tune == 'lower-minute' then
  -- The upstream's limit is below what the window held plus this call.
  local effective = minute_budget(prefix, otype, minute_cfg)
  local seen = minute_used(prefix, otype, now) + granted
  redis.call('SET', learned_key, math.max(1, math.min(math.floor(effective * 0.8), seen - 1)))
elseif tune == 'halve-call-rate' then
  local cps = tonumber(redis.call('GET', cps_key)) or cps_cfg
  redis.call('SET', cps_key, math.max(1, cps / 2))
end

if hold_budget ~= '' then
  local until_ms = now + hold_ms
  if hold_until == 'next-minute' then
    until_ms = math.floor(now / MINUTE) * MINUTE + MINUTE
  elseif hold_until == 'next-quota-day' then
    until_ms = next_day_start(now, offset)
  end
  local scope = otype
  if hold_budget == 'calls' then scope = 'calls' end
  hold(prefix, scope, until_ms, reason)
end
return minute_budget(prefix, otype, minute_cfg)
