-- One call token from a named per-second budget shared by every worker (sliding 1-second log).
-- KEYS[1] callLog   the scope's
-- ARGV: calls per second, token id
-- Returns 0 when taken, else the ms to wait.
--@include lib/clock.lua
local now = now_ms()
local key = KEYS[1]
local cps = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - 1000)
if redis.call('ZCARD', key) >= cps then
  local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  return math.max(1, oldest + 1000 - now)
end
redis.call('ZADD', key, now, ARGV[2])
redis.call('PEXPIRE', key, 2000)
return 0
