-- session.list (reads only): KEYS[1] the event, KEYS[2] its sessions.
-- ARGV[1] the event id, ARGV[2] '1' to include cancelled sessions.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return schalt.error(404, 'not_found', '/event', 'no event ' .. ARGV[1])
end
local sessions = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local session = schalt.load(scheduler.session_key(id))
    if session and (ARGV[2] == '1' or session.status == 'scheduled') then
        sessions[#sessions + 1] = scheduler.session_view(session)
    end
end
return {200, scheduler.encode({event = ARGV[1], sessions = sessions})}
