-- registration.list (reads only): the body's session. Confirmed registrations
-- in arrival order, then the waitlist in order, each with its position.
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
local body = schalt.encode({session = {id = session.id, title = session.title,
    event_title = session.event_title, capacity = tonumber(session.capacity),
    status = session.status, start = session.start, ['end'] = session['end'], room = session.room},
    confirmed = list('confirmed'), waitlist = list('waitlist')}, {'confirmed', 'waitlist'})
return {200, body}
