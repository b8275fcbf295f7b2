-- session.get (reads only): the body's id.
local id = schalt.body().id
local session = schalt.load(scheduler.session_key(id))
if not session then
    return schalt.error(404, 'not_found', '/id', 'no session ' .. id)
end
return {200, scheduler.encode({session = scheduler.session_view(session)})}
