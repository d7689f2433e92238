-- A bot takes a finished job's result to send it: from now on a cancel is too late.
-- A job cancelled (or forgotten) before this moment is left alone: it is not sent.
-- KEYS: job
-- Returns 1 if the clip may be sent, 0 if not.
if redis.call('HGET', KEYS[1], 'state') ~= 'done' or cancel_wanted(KEYS[1]) then
  return 0
end
redis.call('HSETNX', KEYS[1], 'delivering_at', now_ms())
return 1
