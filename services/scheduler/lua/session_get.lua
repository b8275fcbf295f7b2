-- session.get (reads only): KEYS[1] the session. ARGV[1] its id.
local session = schalt.load(KEYS[1])
if not session then
    return schalt.error(404, 'not_found', '/id', 'no session ' .. ARGV[1])
end
return {200, scheduler.encode({session = scheduler.session_view(session)})}
