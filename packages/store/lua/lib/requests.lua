-- Shared helper of the scripts that write a path's status on a request (included by the loader,
-- after keyspace). A request counts its paths that have not ended (`open`); when the last one
-- ends and the request asked for a callback, it is put in `callbacks_due` (the script's
-- `{ns}:callbacks-due` KEY) in the same step.

-- The final path states (packages/domain/src/path-status.ts, FINAL_PATH_STATES).
local TERMINAL = { complete = true, failed = true, rejected = true, unconfirmed = true }

local function write_status(callbacks_due, rid, path, status, now)
  local req_key = keyspace.request(rid)
  local meta_raw = redis.call('HGET', req_key, 'meta')
  if not meta_raw then return end
  local old_raw = redis.call('HGET', req_key, 'p:' .. path)
  local was_open = true
  if old_raw then was_open = not TERMINAL[cjson.decode(old_raw).state] end
  redis.call('HSET', req_key, 'p:' .. path, cjson.encode(status))
  if was_open and TERMINAL[status.state] then
    if redis.call('HINCRBY', req_key, 'open', -1) <= 0 and cjson.decode(meta_raw).callbackUrl then
      redis.call('ZADD', callbacks_due, 'NX', now, rid)
    end
  end
end
