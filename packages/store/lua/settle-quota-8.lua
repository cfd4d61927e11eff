-- Settles a grant after the call: units not spent go back (a refused call spends nothing; a
-- batch smaller than its grant returns the rest); a success raises a lowered per-minute budget
-- and call rate slowly; and the hold the reaction table decided is put in force. This script
-- never interprets an upstream code: the hold arrives decided (which budget, until when, tuning).
-- KEYS[1] settled          the ticket's
-- KEYS[2] quotaMinute      of the type
-- KEYS[3] quotaMinuteSum   of the type
-- KEYS[4] quotaDay         of the type and the grant's day
-- KEYS[5] learnedMinute    of the type
-- KEYS[6] learnedCps       of the action (learnedCps, or scopedLearnedCps)
-- KEYS[7] hold             the held budget's: the type's, or the action's calls hold
-- KEYS[8] clockOffset
-- ARGV: ticket, granted, units spent, answer ('success' | 'refused' | 'unused' | 'uncertain'),
--       hold until ('' = no hold | 'next-minute' | 'next-quota-day' | 'after'), hold ms (for
--       'after'), tune ('' | 'lower-minute' | 'halve-call-rate'), hold reason, minute budget,
--       calls per second, utc offset minutes, clock mode
-- Returns the per-minute budget in force afterwards.
--@include lib/clock.lua
--@include lib/budgets.lua
local settled_key, minute_key, minute_sum_key, day_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local learned_key, cps_key, hold_key, clock_offset_key = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local ticket, granted, spent, answer = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local hold_until, hold_ms, tune, reason = ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local minute_cfg, cps_cfg, offset, clock_mode = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), ARGV[12]
local now = quota_now(clock_offset_key, clock_mode)

-- Settle once per ticket: a re-sent call (reply lost) must not refund or tune twice.
if redis.call('SET', settled_key, '1', 'NX', 'PX', 10 * MINUTE) == false then
  return minute_budget(learned_key, minute_cfg)
end
local member = ticket .. '|' .. granted

if spent < granted then
  local score = redis.call('ZSCORE', minute_key, member)
  if score then
    redis.call('ZREM', minute_key, member)
    redis.call('DECRBY', minute_sum_key, granted - spent)
    if spent > 0 then redis.call('ZADD', minute_key, score, ticket .. '|' .. spent) end
  end
  if redis.call('EXISTS', day_key) == 1 then redis.call('DECRBY', day_key, granted - spent) end
end

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
  local effective = minute_budget(learned_key, minute_cfg)
  local seen = minute_used(minute_key, minute_sum_key, now) + granted
  redis.call('SET', learned_key, math.max(1, math.min(math.floor(effective * 0.8), seen - 1)))
elseif tune == 'halve-call-rate' then
  local cps = tonumber(redis.call('GET', cps_key)) or cps_cfg
  redis.call('SET', cps_key, math.max(1, cps / 2))
end

if hold_until ~= '' then
  local until_ms = now + hold_ms
  if hold_until == 'next-minute' then
    until_ms = math.floor(now / MINUTE) * MINUTE + MINUTE
  elseif hold_until == 'next-quota-day' then
    until_ms = next_day_start(now, offset)
  end
  hold(hold_key, until_ms, reason, now)
end
return minute_budget(learned_key, minute_cfg)
