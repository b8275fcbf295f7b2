-- registration.list (reads only): the body's session. Confirmed registrations
-- in arrival order, those holding an offered seat, then the waitlist in
-- order, each with its position.
local session_id = schalt.body().session
local session = schalt.load(registry.session_key(session_id))
if not session then
    return schalt.error(404, 'not_found', '/session', 'the registry knows no session ' .. session_id)
end
local function list(name)
    local result = {}
    for index, id in ipairs(redis.call('ZRANGE', registry.session_list_key(session_id, name), 0, -1)) do
        local registration = schalt.load(registry.registration_key(id))
        if registration then
            result[#result + 1] = registry.view(registration, name == 'waitlist' and index or nil)
        end
    end
    return result
end
-- A capacity lowered below the seats taken takes none away: the session is
-- over-full until enough have ended (over_capacity says by how many)
local over = registry.seats_taken(session) - tonumber(session.capacity)
local body = schalt.encode({session = {id = session.id, title = session.title,
    event_title = session.event_title, capacity = tonumber(session.capacity),
    over_capacity = over > 0 and over or 0,
    status = session.status, start = session.start, ['end'] = session['end'], room = session.room},
    confirmed = list('confirmed'), offered = list('offered'), waitlist = list('waitlist')},
    {'confirmed', 'offered', 'waitlist'})
return {200, body}
