-- The engine that holds a job (checked by engine id and attempt: a fencing token) ends it.
-- A job whose user asked to cancel (or forgot it) never ends as done: it ends cancelled,
-- refunded, with no clip recorded (the engine deletes the clip it stored).
-- KEYS: job, queue, running, active, resv, quota, results, lane, stats
-- ARGV: job_id, engine_id, attempt, state, error, group, meta_json, clip_id, gen_seconds
-- Returns {'ok', final state} or {'stale', state seen}.
local job_id = ARGV[1]
local j = redis.call('HMGET', KEYS[1], 'state', 'engine', 'attempts', 'entry', 'clip_id')
if j[1] == ARGV[4] and j[2] == ARGV[2] and j[3] == ARGV[3] and (j[5] or '') == ARGV[8] then
  -- A replay (the client retried after losing our reply): it already happened.
  return {'ok', ARGV[4]}
end
if j[1] ~= 'running' or j[2] ~= ARGV[2] or j[3] ~= ARGV[3] then
  return {'stale', j[1] or 'missing'}
end
local ms = now_ms()
local state = ARGV[4]
if state == 'done' and cancel_wanted(KEYS[1]) then
  state = 'cancelled'
else
  redis.call('HSET', KEYS[1], 'meta', ARGV[7], 'clip_id', ARGV[8])
end
end_job(end_keys(1), job_id, state, state == 'cancelled' and '' or ARGV[5], ms)
redis.call('XACK', KEYS[8], ARGV[6], j[4])
redis.call('XDEL', KEYS[8], j[4])
if state == 'done' then
  -- Exponential moving average of generation time feeds the queue ETA.
  local avg = tonumber(redis.call('HGET', KEYS[9], 'avg_job_s') or ARGV[9])
  redis.call('HSET', KEYS[9], 'avg_job_s', avg * 0.8 + tonumber(ARGV[9]) * 0.2)
  redis.call('HINCRBY', KEYS[9], 'done', 1)
  redis.call('HINCRBYFLOAT', KEYS[9], 'gpu_s', tonumber(ARGV[9]))
else
  redis.call('HINCRBY', KEYS[9], state, 1)
end
return {'ok', state}
