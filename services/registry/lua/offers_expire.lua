-- offers.expire (an internal call of the registry's timer): the body's
-- event. Every offer of the event whose time has run out by now ends
-- (expired, with an e-mail, offer-expired), and its seat goes to the next
-- waiting in the same step (offered in turn, unless the session has begun).
-- Answers how many expired and when the next offer runs out (UTC seconds,
-- or null), so that the timer knows when to call again.
local seen = schalt.replay()
if seen then return seen end
local now, stamp = tonumber(ARGV[3]), schalt.now()
local due = redis.call('ZRANGEBYSCORE', registry.due_key, '-inf', now)
local sessions, order, expired = {}, {}, 0
for _, id in ipairs(due) do
    redis.call('ZREM', registry.due_key, id)
    local key = registry.registration_key(id)
    local registration = schalt.load(key)
    if registration and registration.status == 'offered' then
        expired = expired + 1
        registration.status = 'expired'
        redis.call('HSET', key, 'status', 'expired', 'ended', stamp, 'ended_by', 'offer_expired',
            'reason', '', 'late', '0')
        redis.call('ZREM', registry.session_list_key(registration.session, 'offered'), id)
        registry.release(registration)
        local session = sessions[registration.session]
        if not session then
            session = schalt.load(registry.session_key(registration.session))
            sessions[registration.session] = session
            order[#order + 1] = registration.session
        end
        registry.notify(registry.notice_id(id, 'expired'), 'offer-expired', registration, session,
            {offer_until = registration.offer_until})
    end
end
local given = 0
for _, session_id in ipairs(order) do
    given = given + #registry.fill(sessions[session_id], now, stamp)
    registry.alert(sessions[session_id])
end
local next_due = redis.call('ZRANGE', registry.due_key, 0, 0, 'WITHSCORES')
schalt.touch(registry.due_key) -- the offers worker reads it anew
local body = cjson.encode({key = registry.due_key, expired = expired, offered = given,
    next_due = next_due[2] and tonumber(next_due[2]) or cjson.null})
return schalt.answer(200, body)
