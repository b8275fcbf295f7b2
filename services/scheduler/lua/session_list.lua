-- session.list (reads only): the body's event and include_cancelled.
local request = schalt.body()
if redis.call('EXISTS', scheduler.event_key(request.event)) == 0 then
    return schalt.error(404, 'not_found', '/event', 'no event ' .. request.event)
end
local all = request.include_cancelled == true
local sessions = {}
for _, id in ipairs(redis.call('ZRANGE', scheduler.sessions_key(request.event), 0, -1)) do
    local session = schalt.load(scheduler.session_key(id))
    if session and (all or session.status == 'scheduled') then
        sessions[#sessions + 1] = scheduler.session_view(session)
    end
end
return {200, scheduler.encode({event = request.event, sessions = sessions})}
