-- Publishes whether the scarcity policy acts on pressure, per object type (docs/scarcity.md),
-- and says which types changed, so that only the worker that flips a type logs it. The hash
-- expires when no worker renews it: a stopped fleet leaves no pressure behind.
-- KEYS[1] pressure
-- ARGV: File flag ('1' | '0': under pressure), Directory flag, act ('1': the policy acts on it,
--       '0': SCARCITY_POLICY=fifo, pressure is only shown), ttl ms
-- Returns the types whose flag changed, each as '<type>:<new flag>'.
local changed = {}
for index, otype in ipairs({ 'File', 'Directory' }) do
  local flag = ARGV[index]
  local before = redis.call('HGET', KEYS[1], otype) or '0'
  if before ~= flag then changed[#changed + 1] = otype .. ':' .. flag end
  redis.call('HSET', KEYS[1], otype, flag)
end
redis.call('HSET', KEYS[1], 'act', ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return changed
