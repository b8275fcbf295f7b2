-- record (the delivery loop's): KEYS[1] the due queue. ARGV[1] the notice
-- id, ARGV[2] the token of its claim (its sending_since), ARGV[3] the new
-- state (sent, deferred or failed), ARGV[4] the attempt as JSON ('' if no
-- attempt was made), ARGV[5] the reason ('' for none), ARGV[6] now (ms),
-- ARGV[7] now (RFC 3339), ARGV[8] and ARGV[9] when a deferred notice is
-- due again (ms, RFC 3339).
-- Returns 1 if recorded, 0 if the notice is not in that claim any more.
local key = notifier.notice_key(ARGV[1])
local notice = schalt.load(key)
if not notice or notice.state ~= 'sending' or notice.sending_since ~= ARGV[2] then
    return 0
end
local attempts = notice.attempts
if ARGV[4] ~= '' then
    -- The attempt is JSON made by the daemon: append it to the list as text
    if attempts == '[]' then
        attempts = '[' .. ARGV[4] .. ']'
    else
        attempts = string.sub(attempts, 1, -2) .. ',' .. ARGV[4] .. ']'
    end
end
local state = ARGV[3]
local deferrals = tonumber(notice.deferrals) + (state == 'deferred' and 1 or 0)
notifier.move(notice, state, ARGV[6])
redis.call('HSET', key, 'state', state, 'updated', ARGV[7], 'updated_ms', ARGV[6],
    'attempts', attempts, 'reason', ARGV[5], 'deferrals', deferrals,
    'next_attempt', state == 'deferred' and ARGV[9] or '')
redis.call('HDEL', key, 'sending_since')
if state == 'deferred' then
    redis.call('ZADD', KEYS[1], ARGV[8], notice.id)
else
    redis.call('ZREM', KEYS[1], notice.id)
end
return 1
