-- Binds an Idempotency-Key to the first request that used it, for its time to live.
-- KEYS[1] idempotency   the key's
-- ARGV: value JSON, ttl s
-- Returns the value already bound, or false when this call bound it.
local bound = redis.call('GET', KEYS[1])
if bound then return bound end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return false
