-- registration.create: one person for one session (the body's session), or
-- for several sessions of one event (its sessions), decided and written in
-- one step, all or nothing. ARGV[5] the new registrations as a JSON list
-- (id, session, name, email, institution, language, created, code: made by
-- its prepare function, one for each session, in the order asked), ARGV[6]
-- the id of the one notice that tells of them.
--
-- Seats go in arrival order: the first `capacity` registrations of a session
-- are confirmed, the rest waitlisted in order. Refused, changing nothing: a
-- session unknown, cancelled or begun; two sessions of the list that overlap
-- in time; a session that overlaps one the person (the address, ignoring
-- case) already holds in the event, seat or waitlist place (409, naming both).
-- The same address is never registered twice for one session: a request
-- whose sessions the address holds already, all of them, returns the
-- existing registrations (200) and sends nothing; some of them is refused.
local seen = schalt.replay()
if seen then return seen end
local body = schalt.body()
local registrations = cjson.decode(ARGV[5])
local now = tonumber(ARGV[3])
local many = body.sessions ~= nil
local function field(index) return many and '/sessions/' .. (index - 1) or '/session' end
local function span(session)
    return session.id .. ' (' .. session.title .. ', ' .. session.start .. ' to ' .. session['end']
        .. ')'
end

-- Every session must be open
local sessions = {}
for index, registration in ipairs(registrations) do
    local session = schalt.load(registry.session_key(registration.session))
    if not session then
        return schalt.fail(404, 'not_found', field(index), 'no session ' .. registration.session
            .. ' is open for registration (unknown, or not yet announced by the scheduler)')
    end
    if session.status ~= 'scheduled' then
        return schalt.fail(409, 'session_cancelled', field(index), 'the session ' .. session.id
            .. ' is cancelled')
    end
    if tonumber(session.start_ts) <= now then
        return schalt.fail(409, 'session_past', field(index), 'the session ' .. session.id
            .. ' has already begun')
    end
    sessions[index] = session
end

-- The address's registrations in this event, and those of the request's
-- sessions that it holds already
local address = string.lower(registrations[1].email)
local person = registry.person_key(address)
local held, held_sessions, existing = {}, {}, {}
for _, id in ipairs(redis.call('SMEMBERS', person)) do
    local registration = schalt.load(registry.registration_key(id))
    if registration then
        held[registration.session] = registration
        held_sessions[registration.session] = schalt.load(registry.session_key(registration.session))
    end
end
for index, registration in ipairs(registrations) do
    existing[#existing + 1] = held[registration.session]
end
if #existing == #registrations then
    if not many then
        return schalt.answer(200, cjson.encode({registration = registry.view(existing[1])}))
    end
    local views = {}
    for index, registration in ipairs(existing) do views[index] = registry.view(registration) end
    return schalt.answer(200, cjson.encode({registrations = views}))
end
for index, registration in ipairs(registrations) do
    if held[registration.session] then
        return schalt.fail(409, 'already_registered', field(index), registration.email
            .. ' is registered for ' .. registration.session .. ' already; ask for the others alone')
    end
end

-- No two sessions at once: not within the request, not with one held
local function overlap(a, b)
    return tonumber(a.start_ts) < tonumber(b.end_ts) and tonumber(b.start_ts) < tonumber(a.end_ts)
end
for index, session in ipairs(sessions) do
    for other = 1, index - 1 do
        if overlap(session, sessions[other]) then
            return schalt.answer(409, cjson.encode({error = {code = 'sessions_overlap',
                field = field(index), conflict = sessions[other].id, message = span(sessions[other])
                .. ' and ' .. span(session) .. ' overlap in time: choose one of them'}}))
        end
    end
    for _, registration in pairs(held) do
        local other = held_sessions[registration.session]
        if other and overlap(session, other) then
            return schalt.answer(409, cjson.encode({error = {code = 'sessions_overlap',
                field = field(index), conflict = other.id, message = span(session)
                .. ' overlaps ' .. span(other) .. ', which ' .. registration.email
                .. ' holds already (registration ' .. registration.id .. ', '
                .. registration.status .. ')'}}))
        end
    end
end

-- Not stored under the request id: a retry makes new ids
for _, registration in ipairs(registrations) do
    if redis.call('EXISTS', registry.registration_key(registration.id)) == 1 then
        return schalt.error(500, 'id_collision', '', 'a new registration id was taken; retry')
    end
end

-- A seat if one is free and nobody waits for it, else the end of the
-- waitlist: a seat that frees up (or a raised capacity) belongs to the
-- first on the waitlist, never to a newcomer.
local views, items = {}, {}
local links = {}
for index, registration in ipairs(registrations) do
    local session = sessions[index]
    registration.status = 'waitlisted'
    if registry.seats_taken(session) < tonumber(session.capacity)
        and redis.call('ZCARD', registry.session_list_key(session.id, 'waitlist')) == 0 then
        registration.status = 'confirmed'
    end
    registry.add(registration, session)
    views[index] = registry.view(registration)
    items[index] = {title = session.title, room = session.room, start = session.start,
        ['end'] = session['end'], status = registration.status,
        position = views[index].position and tostring(views[index].position) or nil,
        code = registration.status == 'confirmed' and registration.code ~= ''
            and registration.code or nil,
        link = (registration.status == 'confirmed' and 'cancel_' or 'leave_') .. index}
    links[items[index].link] = registry.link(registration, session)
end

-- The e-mail, through the outbox, in this same step: for one session as
-- ever, for several one e-mail that lists them, each with its link
local first = registrations[1]
if not many then
    registry.notify(ARGV[6], 'registration-' .. first.status, first, sessions[1],
        {position = views[1].position and tostring(views[1].position) or nil, code = first.code})
else
    local some_waitlisted = ''
    for _, item in ipairs(items) do
        if item.status == 'waitlisted' then some_waitlisted = '1' end
    end
    local entries = {}
    for index, registration in ipairs(registrations) do
        entries[index] = {registration = registration, session = sessions[index]}
    end
    registry.notify(ARGV[6], 'registrations-made', first, sessions[1],
        {some_waitlisted = some_waitlisted}, items, links, entries)
end
for _, session in ipairs(sessions) do registry.alert(session) end
-- Observers learn that registrations happened, not who registered
local published = {}
for index, view in ipairs(views) do
    published[index] = {id = view.id, session = view.session, status = view.status,
        position = view.position}
end
if not many then
    return schalt.answer(201, cjson.encode({registration = views[1]}), 'registration.created',
        cjson.encode({registration = published[1]}))
end
return schalt.answer(201, cjson.encode({registrations = views}), 'registrations.created',
    cjson.encode({registrations = published}))
