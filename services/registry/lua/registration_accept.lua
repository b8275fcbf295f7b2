-- registration.accept: the person takes the seat offered to them (the
-- token of the accept link, checked by the prepare function). ARGV[5] the
-- registration id, ARGV[6] the token's refusal as JSON ({status, code,
-- message}) or "".
--
-- Refused, changing nothing: an offer that ran out (even if the timer has
-- not ended it yet) or went to someone else, a registration that holds a
-- seat already (accepting twice), one that was never offered a seat, one
-- that ended, and a session that has begun.
local seen = schalt.replay()
if seen then return seen end
if ARGV[6] ~= '' then
    local refusal = cjson.decode(ARGV[6])
    return schalt.fail(refusal.status, refusal.code, '/token', refusal.message)
end
local id, now = ARGV[5], tonumber(ARGV[3])
local key = registry.registration_key(id)
local registration = schalt.load(key)
if not registration then
    return schalt.fail(404, 'not_found', '/token', 'no registration ' .. id)
end
if registration.status == 'confirmed' then
    return schalt.fail(409, 'already_accepted', '/token', 'the registration ' .. id
        .. ' holds its seat already')
end
if registration.status == 'expired' or (registration.status == 'offered'
    and tonumber(registration.offer_until_ts) <= now) then
    return schalt.fail(409, 'offer_expired', '/token', 'the offer ran out at '
        .. registration.offer_until .. '; the seat went to the next person waiting')
end
if registry.ended[registration.status] then
    return schalt.fail(409, 'already_ended', '/token', 'the registration ' .. id .. ' was '
        .. registry.ended_words[registration.status] .. ' (' .. registration.ended .. ')')
end
if registration.status ~= 'offered' then
    return schalt.fail(409, 'not_offered', '/token', 'the registration ' .. id
        .. ' is on the waitlist; no seat is offered to it (now)')
end
local session = schalt.load(registry.session_key(registration.session))
if tonumber(session.start_ts) <= now then
    return schalt.fail(409, 'session_past', '/token', 'the session ' .. session.id
        .. ' has begun')
end

-- The seat is theirs
local arrival = redis.call('ZSCORE', registry.session_list_key(session.id, 'offered'), id)
redis.call('ZREM', registry.session_list_key(session.id, 'offered'), id)
redis.call('ZREM', registry.due_key, id)
redis.call('ZADD', registry.session_list_key(session.id, 'confirmed'), arrival or registration.arrival,
    id)
registration.status, registration.promoted = 'confirmed', schalt.now()
redis.call('HSET', key, 'status', 'confirmed', 'promoted', registration.promoted)
registry.notify(registry.notice_id(id, 'accepted'), 'registration-confirmed', registration, session,
    {code = registration.code})
local body = cjson.encode({registration = registry.view(registration)})
return schalt.answer(200, body, 'registration.accepted', cjson.encode({registration = {
    id = id, session = session.id, status = 'confirmed'}}))
