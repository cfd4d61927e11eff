-- Shared helper of the scripts that write a path's status on a request (included by the loader,
-- after keyspace). A request counts its paths that have not ended (`open`); when the last one
-- ends and the request asked for a callback, it is put in `callbacks_due` (the script's
-- `{ns}:callbacks-due` KEY) in the same step.

-- The final path states (packages/domain/src/path-status.ts, FINAL_PATH_STATES).
local TERMINAL = { complete = true, failed = true, rejected = true, unconfirmed = true, cancelled = true }

-- The path's lookup record (GET /v1/paths): its last submission and its last end, whichever
-- request they came on. It lives as long as the newest status that wrote it (the request's TTL).
-- One outcome reaches every request linked to the path: within a script run the record is
-- written once per path and outcome (with the first request), and only its expiry follows the rest.
local ENDS = { complete = true, failed = true, rejected = true, unconfirmed = true }
local indexed = {}
local function index_path(req_key, otype, rid, path, status)
  local submitted = status.state == 'submitted' and status.submittedAt
  if not submitted and not ENDS[status.state] then return end
  local record = keyspace.pathRecord(otype, path)
  local field = submitted and 'submitted' or 'ended'
  local memo = field .. '\t' .. record
  local ttl = redis.call('PTTL', req_key)
  local kept = indexed[memo]
  if kept then
    if ttl > kept then
      redis.call('PEXPIRE', record, ttl)
      indexed[memo] = ttl
    end
    return
  end
  if submitted then
    redis.call('HSET', record, field, cjson.encode({
      requestId = rid, at = status.submittedAt, taskId = status.taskId,
      upstreamRequestId = status.upstreamRequestId, coveredBy = status.coveredBy,
    }))
  else
    redis.call('HSET', record, field, cjson.encode({
      requestId = rid, state = status.state, at = status.completedAt or status.updatedAt,
      taskId = status.taskId, error = status.error, coveredBy = status.coveredBy,
    }))
  end
  local current = redis.call('PTTL', record)
  if ttl > current then redis.call('PEXPIRE', record, ttl) end
  indexed[memo] = math.max(ttl, current)
end

local function write_status(callbacks_due, rid, path, status, now)
  local req_key = keyspace.request(rid)
  local meta_raw = redis.call('HGET', req_key, 'meta')
  if not meta_raw then return end
  local meta = cjson.decode(meta_raw)
  local old_raw = redis.call('HGET', req_key, 'p:' .. path)
  local was_open = true
  if old_raw then was_open = not TERMINAL[cjson.decode(old_raw).state] end
  redis.call('HSET', req_key, 'p:' .. path, cjson.encode(status))
  index_path(req_key, meta.objectType, rid, path, status)
  if was_open and TERMINAL[status.state] then
    if redis.call('HINCRBY', req_key, 'open', -1) <= 0 and meta.callbackUrl then
      redis.call('ZADD', callbacks_due, 'NX', now, rid)
    end
  end
end
