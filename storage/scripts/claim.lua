-- An engine read a stream entry: start the job, skip it, or dead-letter it.
-- KEYS: job, queue, running, active, resv, quota, results, lane, dead
-- ARGV: job_id, engine_id, entry_id, max_attempts, group, claim_token
local job_id, engine, entry = ARGV[1], ARGV[2], ARGV[3]
local ms = now_ms()
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'queued' and state ~= 'running' then
  -- Cancelled, finished or forgotten before an engine got to it.
  redis.call('XACK', KEYS[8], ARGV[5], entry)
  redis.call('XDEL', KEYS[8], entry)
  return {'skip', state or 'missing'}
end
if state == 'running' and redis.call('HGET', KEYS[1], 'claim_token') == ARGV[6] then
  -- A replay of this very call (the client retried after losing our reply). A new call,
  -- even by a restarted engine with the same id, has a new token and counts an attempt.
  return {'run', redis.call('HGET', KEYS[1], 'attempts')}
end
if cancel_wanted(KEYS[1]) then
  -- Its engine died after the user cancelled (or forgot) it: end it here, never rerun it
  -- and never dead-letter it.
  end_job(end_keys(1), job_id, 'cancelled', '', ms)
  redis.call('XACK', KEYS[8], ARGV[5], entry)
  redis.call('XDEL', KEYS[8], entry)
  return {'skip', 'cancelled'}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[4]) then
  local keys = end_keys(1)
  end_job(keys, job_id, 'failed', 'poison', ms)
  redis.call('XADD', KEYS[9], 'MAXLEN', '~', 10000, '*', 'job', job_id,
    'attempts', attempts - 1, 'engine', redis.call('HGET', KEYS[1], 'engine') or '')
  redis.call('XACK', KEYS[8], ARGV[5], entry)
  redis.call('XDEL', KEYS[8], entry)
  return {'dead', tostring(attempts - 1)}
end
redis.call('HSET', KEYS[1], 'state', 'running', 'engine', engine, 'entry', entry,
  'started_at', ms, 'step', 0, 'claim_token', ARGV[6])
redis.call('ZREM', KEYS[2], job_id)
redis.call('HSET', KEYS[3], job_id, engine)
return {'run', tostring(attempts)}
