-- event.get (reads only): the body's id.
local id = schalt.body().id
local event = schalt.load(scheduler.event_key(id))
if not event then
    return schalt.error(404, 'not_found', '/id', 'no event ' .. id)
end
return {200, scheduler.encode({event = scheduler.event_view(event)})}
