-- /forget, for one job of the user: nothing of it may outlive the job, and its id leaves
-- the user's in-flight set now, so the user can ask for a new clip at once.
-- Queued: ends now (refunded) and goes. Running: refunded now and cut down to a tombstone
-- holding only what the engine's fencing and the ending scripts need (user, platform,
-- state, engine, attempt, stream entry) plus cancel and forgotten flags; whichever script
-- ends it (finish, claim after a reclaim) deletes it. Made but not yet taken by a bot for
-- sending: refunded (never sent) and deleted. Anything else: deleted.
-- KEYS: job, queue, running, active, resv, quota, results, image, jobs-of(user), [idem]
-- ARGV: job_id, user
-- Returns {state seen ('gone' if none), clip id to delete ('' if none)}.
local job_id, user = ARGV[1], ARGV[2]
redis.call('ZREM', KEYS[9], job_id)
redis.call('SREM', KEYS[4], job_id)
redis.call('DEL', KEYS[8])
if KEYS[10] and redis.call('GET', KEYS[10]) == job_id then
  redis.call('DEL', KEYS[10])
end
local j = redis.call('HMGET', KEYS[1], 'state', 'user', 'clip_id', 'delivering_at',
  'delivered_at')
if not j[1] or j[2] ~= user then
  return {'gone', ''}
end
local state = j[1]
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'forgotten', 1)
  end_job(end_keys(1), job_id, 'cancelled', '', now_ms())
  return {state, ''}
end
if state == 'running' then
  refund(KEYS[5], KEYS[6])
  local keep = redis.call('HMGET', KEYS[1], 'platform', 'engine', 'attempts', 'entry',
    'claim_token')
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'user', user, 'platform', keep[1] or '', 'state', 'running',
    'engine', keep[2] or '', 'attempts', keep[3] or '0', 'entry', keep[4] or '',
    'claim_token', keep[5] or '', 'cancel', 1, 'forgotten', 1)
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  return {state, ''}
end
if state == 'done' and not j[4] and not j[5] then
  refund(KEYS[5], KEYS[6])
end
redis.call('DEL', KEYS[1], KEYS[5])
return {state, j[3] or ''}
