-- session.seats (reads only): the body's event. For each of its sessions the
-- registry knows (registry.sessions_key, in start order): its capacity, the
-- seats taken (confirmed and offered), the seats free (never below 0: a
-- lowered capacity may leave a session over-full) and the waitlist's length.
-- Counts only: the public catalogue shows them, so no person is named.
local event = schalt.body().event
local sessions = {}
for _, id in ipairs(redis.call('ZRANGE', registry.sessions_key, 0, -1)) do
    local session = schalt.load(registry.session_key(id))
    if session then
        session.id = id
        local capacity = tonumber(session.capacity) or 0
        local taken = registry.seats_taken(session)
        sessions[#sessions + 1] = {id = id, capacity = capacity, taken = taken,
            free = math.max(capacity - taken, 0),
            waiting = redis.call('ZCARD', registry.session_list_key(id, 'waitlist'))}
    end
end
return {200, schalt.encode({event = event, sessions = sessions}, {'sessions'})}
