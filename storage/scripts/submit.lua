-- Reserve quota and enqueue a job in one step, or refuse without writing anything.
-- KEYS: idem, job, queue, seq, lane, quota(user), grant(user), active(user), jobs-of(user), resv,
--       image, [pool]
-- ARGV: job_id, user, cost, daily_gpu_s, daily_clips, max_inflight, max_queue,
--       idem_ttl_s, record_ttl_s, request_json, lane_name, platform, image_bytes (or ''),
--       [pool_daily_clips]
-- The optional pool is a daily clip count shared by many users (a Discord server): it is
-- admitted and charged here with the user's own quota, and the reservation remembers it
-- so that a refund gives both back.
local job_id, user = ARGV[1], ARGV[2]
local cost = tonumber(ARGV[3])
local ms = now_ms()
local day = utc_day(ms)

local existing = redis.call('GET', KEYS[1])
if existing then
  local rank = redis.call('ZRANK', KEYS[3], existing)
  return {'dup', existing, rank and (rank + 1) or 0}
end

local g = redis.call('HMGET', KEYS[7], 'banned', 'daily_gpu_s', 'daily_clips', 'max_inflight')
if g[1] == '1' then
  return {'refused', 'banned'}
end
local budget = tonumber(g[2] or ARGV[4])
local clips_budget = tonumber(g[3] or ARGV[5])
local max_inflight = tonumber(g[4] or ARGV[6])

if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then
  return {'refused', 'queue_full'}
end
if redis.call('SCARD', KEYS[8]) >= max_inflight then
  return {'refused', 'inflight', tostring(max_inflight)}
end

local q = redis.call('HMGET', KEYS[6], 'day', 'gpu_s', 'clips')
local used_s, used_clips = 0, 0
if q[1] == day then
  used_s, used_clips = tonumber(q[2] or '0'), tonumber(q[3] or '0')
end
local reset_in = tostring(math.ceil((86400000 - ms % 86400000) / 1000))
if used_clips + 1 > clips_budget then
  return {'refused', 'quota_clips', tostring(clips_budget), reset_in}
end
if used_s + cost > budget + 1e-9 then
  return {'refused', 'quota_gpu', tostring(budget), reset_in}
end
local pool_key, pool_day = KEYS[12], nil
if pool_key then
  local p = redis.call('HMGET', pool_key, 'day', 'clips')
  pool_day = p[1]
  local pool_used = (p[1] == day) and tonumber(p[2] or '0') or 0
  local pool_limit = tonumber(ARGV[14])
  if pool_used + 1 > pool_limit then
    return {'refused', 'pool_clips', tostring(pool_limit), reset_in}
  end
end

if q[1] ~= day then
  redis.call('HSET', KEYS[6], 'day', day, 'gpu_s', 0, 'clips', 0)
end
redis.call('HINCRBYFLOAT', KEYS[6], 'gpu_s', cost)
redis.call('HINCRBY', KEYS[6], 'clips', 1)
redis.call('EXPIRE', KEYS[6], 3 * 86400)
redis.call('HSET', KEYS[10], 'day', day, 'cost', cost, 'user', user)
if pool_key then
  if pool_day ~= day then
    redis.call('HSET', pool_key, 'day', day, 'clips', 0)
  end
  redis.call('HINCRBY', pool_key, 'clips', 1)
  redis.call('EXPIRE', pool_key, 3 * 86400)
  redis.call('HSET', KEYS[10], 'pool', pool_key)
end
-- An undelivered job's pending charge lives as long as its record, no longer.
redis.call('EXPIRE', KEYS[10], tonumber(ARGV[9]))

local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], 'id', job_id, 'user', user, 'state', 'queued', 'request', ARGV[10],
  'cost', cost, 'created_at', ms, 'attempts', 0, 'seq', seq, 'lane', ARGV[11],
  'idem', KEYS[1], 'step', 0, 'total_steps', 0, 'platform', ARGV[12])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[9]))
redis.call('ZADD', KEYS[3], seq, job_id)
redis.call('SADD', KEYS[8], job_id)
redis.call('ZADD', KEYS[9], ms, job_id)
redis.call('EXPIRE', KEYS[9], tonumber(ARGV[9]))
redis.call('SET', KEYS[1], job_id, 'EX', tonumber(ARGV[8]))
if ARGV[13] ~= '' then
  redis.call('SET', KEYS[11], ARGV[13], 'EX', tonumber(ARGV[9]))
end
redis.call('XADD', KEYS[5], '*', 'job', job_id)
return {'ok', job_id, redis.call('ZRANK', KEYS[3], job_id) + 1}
