-- The heartbeat of a batch's holder: its lease is pushed `lease` ms past now, as long as the batch
-- is still there. A batch that is gone was finished, or taken back by finish-batch-7.lua
-- (only-if-expired) after its lease ran out: then the holder has lost it and must make no more
-- calls for it (its paths are back in the pool, uncertain). A lease that ran out but was not yet
-- taken back is renewed: no one else can have it, since taking it back deletes the batch.
-- KEYS[1] batch      the batch id's
-- KEYS[2] inflight
-- ARGV: batch id, lease ms
-- Returns 1 when renewed, 0 when the batch is gone.
--@include lib/clock.lua
local batch_key, inflight_key = KEYS[1], KEYS[2]
local batch_id, lease = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', batch_key) == 0 then return 0 end
if not redis.call('ZSCORE', inflight_key, batch_id) then return 0 end
redis.call('ZADD', inflight_key, 'XX', now_ms() + lease, batch_id)
return 1
