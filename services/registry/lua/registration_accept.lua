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
local session = schalt.load(registry.session_key(registration.session))
local status, code, message = registry.accept_refusal(registration, session, now)
if status then return schalt.fail(status, code, '/token', message) end

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
