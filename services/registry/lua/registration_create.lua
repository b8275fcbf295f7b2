-- registration.create: one person for one session, decided and written in
-- one step. ARGV[5] the registration as JSON (id, session, name, email,
-- institution, language, created: made by its prepare function), ARGV[6]
-- the notice id for its confirmation.
--
-- Seats go in arrival order: the first `capacity` registrations are
-- confirmed, the rest waitlisted in order. The same address (ignoring case)
-- is never registered twice for one session: a second attempt returns the
-- existing registration (200) and sends nothing.
local seen = schalt.replay()
if seen then return seen end
local registration = cjson.decode(ARGV[5])
local session_id = registration.session
local session = schalt.load(registry.session_key(session_id))
if not session then
    return schalt.fail(404, 'not_found', '/session', 'no session ' .. session_id
        .. ' is open for registration (unknown, or not yet announced by the scheduler)')
end
if session.status ~= 'scheduled' then
    return schalt.fail(409, 'session_cancelled', '/session', 'the session ' .. session.id
        .. ' is cancelled')
end
if tonumber(session.start_ts) <= tonumber(ARGV[3]) then
    return schalt.fail(409, 'session_past', '/session', 'the session ' .. session.id
        .. ' has already begun')
end
local emails = registry.session_list_key(session_id, 'emails')
local confirmed = registry.session_list_key(session_id, 'confirmed')
local waitlist = registry.session_list_key(session_id, 'waitlist')
local address = string.lower(registration.email)
local existing = redis.call('HGET', emails, address)
if existing then
    local stored = schalt.load(registry.registration_key(existing))
    return schalt.answer(200, cjson.encode({registration = registry.view(stored)}))
end

-- Not stored under the request id: a retry makes a new id
local key = registry.registration_key(registration.id)
if redis.call('EXISTS', key) == 1 then
    return schalt.error(500, 'id_collision', '', 'a new registration id was taken; retry')
end

-- A seat if one is free and nobody waits for it, else the end of the
-- waitlist: a seat that frees up (or a raised capacity) belongs to the
-- first on the waitlist, never to a newcomer.
local order = redis.call('INCR', registry.arrivals_key)
registration.status = 'waitlisted'
if redis.call('ZCARD', confirmed) < tonumber(session.capacity)
    and redis.call('ZCARD', waitlist) == 0 then
    registration.status = 'confirmed'
end
registration.arrival = order
schalt.store(key, registration)
redis.call('ZADD', registration.status == 'confirmed' and confirmed or waitlist, order,
    registration.id)
redis.call('HSET', emails, address, registration.id)
local view = registry.view(registration)

-- The e-mail, through the outbox, in this same step
registry.notify(ARGV[6], 'registration-' .. registration.status, registration, session,
    {position = view.position and tostring(view.position) or nil})
-- Observers learn that a registration happened, not who registered
local event = cjson.encode({registration = {id = view.id, session = view.session,
    status = view.status, position = view.position}})
return schalt.answer(201, cjson.encode({registration = view}), 'registration.created', event)
