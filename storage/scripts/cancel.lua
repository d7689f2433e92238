-- A user cancels a job. Queued: it ends now. Running: its engine is flagged and stops at
-- its next check (between steps, before encode, before store; finish refuses it too).
-- Made but not yet taken by a bot for sending: it ends now and the clip is dropped.
-- Once a bot has taken it for sending (delivering_at), it is too late.
-- KEYS: job, queue, running, active, resv, quota, results
-- ARGV: job_id, user
-- Returns {outcome, clip_id to delete ('' for none)}; outcome is a CancelOutcome value.
local j = redis.call('HMGET', KEYS[1], 'state', 'user', 'delivering_at', 'delivered_at',
  'clip_id')
if not j[1] or j[2] ~= ARGV[2] then
  return {'nothing', ''}
end
local state = j[1]
if state == 'queued' then
  end_job(end_keys(1), ARGV[1], 'cancelled', '', now_ms())
  return {'cancelled', ''}
end
if state == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', 1)
  return {'cancelling', ''}
end
if state == 'done' then
  if j[3] or j[4] then
    return {'too_late', ''}
  end
  -- Its result event is already on the stream: the bot that reads it finds the job
  -- cancelled and says so instead of sending the clip. No second event.
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'cancel', 1, 'finished_at', now_ms(),
    'clip_id', '', 'meta', '')
  redis.call('SREM', KEYS[4], ARGV[1])
  refund(KEYS[5], KEYS[6])
  return {'cancelled', j[5] or ''}
end
if state == 'cancelled' then
  return {'cancelled', ''}
end
return {'nothing', ''}
