-- record (the delivery loop's): KEYS[1] the due queue. ARGV holds nine
-- values for each result, so that one call records a whole batch: the
-- notice id, the token of its claim (its sending_since), the new state
-- (sent, deferred or failed), the attempt as JSON ('' if no attempt was
-- made), the reason ('' for none), now (ms), now (RFC 3339), and when a
-- deferred notice is due again (ms, RFC 3339).
-- Returns for each result 1 if recorded, 2 if this very result was recorded
-- already (an earlier call was applied, but its reply was lost when Redis
-- or the connection failed), 0 if the notice is not in that claim any more
-- (then nothing changed for it).
local function record(id, token, state, attempt, reason, now_ms, now_iso, next_ms, next_iso)
    local key = notifier.notice_key(id)
    local found = redis.call('HMGET', key, 'state', 'sending_since', 'attempts', 'deferrals',
        'email', 'recorded_token')
    if found[6] == token and found[2] ~= token then
        return 2
    end
    -- Not in this claim any more, or not a whole notice (a script error here
    -- would leave the rest of the batch unrecorded)
    if found[1] ~= 'sending' or found[2] ~= token or not found[3] or not found[5] then
        return 0
    end
    local attempts = found[3]
    if attempt ~= '' then
        -- The attempt is JSON made by the daemon: append it to the list as text
        if attempts == '[]' then
            attempts = '[' .. attempt .. ']'
        else
            attempts = string.sub(attempts, 1, -2) .. ',' .. attempt .. ']'
        end
    end
    local deferrals = (tonumber(found[4]) or 0) + (state == 'deferred' and 1 or 0)
    notifier.move({id = id, state = found[1], email = found[5]}, state, now_ms, true)
    -- sending_since '' matches no token: a late second record changes nothing
    redis.call('HSET', key, 'state', state, 'updated', now_iso, 'updated_ms', now_ms,
        'attempts', attempts, 'reason', reason, 'deferrals', deferrals,
        'next_attempt', state == 'deferred' and next_iso or '', 'sending_since', '',
        'recorded_token', token)
    if state == 'deferred' then
        redis.call('ZADD', KEYS[1], next_ms, id)
    else
        redis.call('ZREM', KEYS[1], id)
    end
    return 1
end

local recorded = {}
for first = 1, #ARGV - 8, 9 do
    recorded[#recorded + 1] = record(unpack(ARGV, first, first + 8))
end
return recorded
