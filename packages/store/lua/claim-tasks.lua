-- Claims refresh tasks due for a look: each is rescheduled `lease` ms ahead, so no other worker
-- polls it meanwhile, and a worker that dies leaves it due again after the lease.
-- ARGV: prefix, max tasks, lease ms
-- Returns a flat list: task id, meta JSON, task id, meta JSON, ...
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefix, max, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local tracking = prefix .. 'tracking'
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', tracking, '-inf', now, 'LIMIT', 0, max)) do
  redis.call('ZADD', tracking, now + lease, id)
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', prefix .. 'task:' .. id, '_meta') or '{}'
end
return out
