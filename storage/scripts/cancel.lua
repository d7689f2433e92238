-- A user cancels a job: a queued one ends now, a running one is flagged for its engine.
-- KEYS: job, queue, running, active, resv, quota, results
-- ARGV: job_id, user
local j = redis.call('HMGET', KEYS[1], 'state', 'user')
if not j[1] or j[2] ~= ARGV[2] then
  return 'missing'
end
if j[1] == 'queued' then
  end_job(end_keys(1), ARGV[1], 'cancelled', '', now_ms())
  return 'cancelled'
end
if j[1] == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', 1)
  return 'cancelling'
end
return j[1]
