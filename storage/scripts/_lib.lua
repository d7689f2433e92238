-- Shared helpers, prepended to every script by storage/scripts.py.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function utc_day(ms)
  return tostring(math.floor(ms / 86400000))
end

-- Give a job's reserved budget back. The reservation key is the proof that a charge is
-- pending, so deleting it makes refund and commit each happen at most once per job.
-- A shared pool the job was also charged to (its key is recorded in the reservation and
-- carries the deployment's hash tag, so it lives in this script's slot) gets its clip back.
local function refund(resv_key, quota_key)
  local r = redis.call('HMGET', resv_key, 'day', 'cost', 'pool')
  if not r[1] then
    return 0
  end
  if redis.call('HGET', quota_key, 'day') == r[1] then
    redis.call('HINCRBYFLOAT', quota_key, 'gpu_s', -tonumber(r[2]))
    redis.call('HINCRBY', quota_key, 'clips', -1)
  end
  if r[3] and redis.call('HGET', r[3], 'day') == r[1] then
    redis.call('HINCRBY', r[3], 'clips', -1)
  end
  redis.call('DEL', resv_key)
  return 1
end

-- Move a job to a final state and tell its platform's bots. Keys are
-- job, queue, running, active(user), reservation, quota(user), results(platform).
-- A job its user forgot (/forget while an engine held it) is only a tombstone: it ends
-- without a result event and the tombstone goes, so nothing of the user is left.
local function end_job(keys, job_id, state, err, ms)
  redis.call('ZREM', keys.queue, job_id)
  redis.call('HDEL', keys.running, job_id)
  redis.call('SREM', keys.active, job_id)
  if state ~= 'done' then
    refund(keys.resv, keys.quota)
  end
  if redis.call('HGET', keys.job, 'forgotten') == '1' then
    redis.call('DEL', keys.job, keys.resv)
    return
  end
  redis.call('HSET', keys.job, 'state', state, 'finished_at', ms, 'error', err)
  redis.call('XADD', keys.results, 'MAXLEN', '~', 100000, '*', 'job', job_id, 'state', state,
    'error', err)
end

-- True when the job's user asked to cancel it (or forgot it).
local function cancel_wanted(job_key)
  return redis.call('HGET', job_key, 'cancel') == '1'
end

local function end_keys(first)
  return {job = KEYS[first], queue = KEYS[first + 1], running = KEYS[first + 2],
    active = KEYS[first + 3], resv = KEYS[first + 4], quota = KEYS[first + 5],
    results = KEYS[first + 6]}
end
