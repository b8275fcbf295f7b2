-- registration.checkin: the body's session; ARGV[5] the registration id, or
-- "" and ARGV[6] the check-in code (normalised: "K7M-Q2X"). A confirmed
-- person is marked present once: a second check-in answers 200 with the
-- first time (again = true) and changes nothing. Refused, changing nothing:
-- a code or id the session does not have, a registration of another
-- session, one that is not confirmed (waitlisted, cancelled, left), and a
-- cancelled session.
local seen = schalt.replay()
if seen then return seen end
local session_id = schalt.body().session
local session = schalt.load(registry.session_key(session_id))
if not session then
    return schalt.fail(404, 'not_found', '/session', 'the registry knows no session ' .. session_id)
end
if session.status ~= 'scheduled' then
    return schalt.fail(409, 'session_cancelled', '/session', 'the session ' .. session_id
        .. ' is cancelled')
end
local id, field = ARGV[5], '/id'
if id == '' then
    field = '/code'
    id = redis.call('HGET', registry.session_list_key(session_id, 'codes'), ARGV[6])
    if not id then
        return schalt.fail(404, 'not_found', field, 'no registration of the session ' .. session_id
            .. ' has the check-in code ' .. ARGV[6])
    end
end
local key = registry.registration_key(id)
local registration = schalt.load(key)
if not registration then
    return schalt.fail(404, 'not_found', field, 'no registration ' .. id)
end
if registration.session ~= session_id then
    return schalt.fail(409, 'other_session', field, 'the registration ' .. id .. ' is for the session '
        .. registration.session .. ', not for ' .. session_id)
end
if registration.status ~= 'confirmed' then
    local why = {waitlisted = 'is on the waitlist: it has no seat',
        cancelled = 'was cancelled (' .. (registration.ended or '') .. ')',
        left = 'left the waitlist (' .. (registration.ended or '') .. ')'}
    return schalt.fail(409, 'not_confirmed', field, 'the registration ' .. id .. ' '
        .. (why[registration.status] or 'has no seat'))
end
local again = registration.checked_in ~= nil and registration.checked_in ~= ''
if not again then
    registration.checked_in = schalt.now()
    redis.call('HSET', key, 'checked_in', registration.checked_in)
end
return schalt.answer(200, cjson.encode({registration = registry.view(registration), again = again}))
