-- registration.list (reads only): KEYS[1] the session's facts. ARGV[1] the
-- session id. Confirmed registrations in arrival order, then the waitlist in
-- order, each with its position.
local prefix = registry.prefix(ARGV[1])
local session = schalt.load(KEYS[1])
if not session then
    return schalt.error(404, 'not_found', '/session', 'the registry knows no session ' .. ARGV[1])
end
local function list(name)
    local result = {}
    for index, id in ipairs(redis.call('ZRANGE', prefix .. name, 0, -1)) do
        local registration = schalt.load(prefix .. 'registration:' .. id)
        if registration then
            result[#result + 1] = registry.view(registration, prefix,
                name == 'waitlist' and index or nil)
        end
    end
    return result
end
local body = schalt.encode({session = {id = session.id, title = session.title,
    event_title = session.event_title, capacity = tonumber(session.capacity),
    status = session.status, start = session.start, ['end'] = session['end'], room = session.room},
    confirmed = list('confirmed'), waitlist = list('waitlist')}, {'confirmed', 'waitlist'})
return {200, body}
