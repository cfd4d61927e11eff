-- Publishes per pool type whether it is under pressure (its budget family's, docs/scarcity.md)
-- and whether the scarcity policy acts on it, and says which types changed, so that only the
-- worker that flips one logs it. The hash expires when no worker renews it: a stopped fleet
-- leaves no pressure behind.
-- KEYS[1] pressure
-- ARGV: act ('1': the policy acts on pressure; '0': SCARCITY_POLICY=fifo, pressure is only shown),
--       ttl ms, then pairs of (type, flag '1' | '0')
-- Returns the types whose flag changed, each as '<type>:<new flag>'.
local changed = {}
for i = 3, #ARGV, 2 do
  local otype, flag = ARGV[i], ARGV[i + 1]
  local before = redis.call('HGET', KEYS[1], otype) or '0'
  if before ~= flag then changed[#changed + 1] = otype .. ':' .. flag end
  redis.call('HSET', KEYS[1], otype, flag)
end
redis.call('HSET', KEYS[1], 'act', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return changed
