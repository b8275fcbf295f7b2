-- event.get (reads only): KEYS[1] the event. ARGV[1] its id.
local event = schalt.load(KEYS[1])
if not event then
    return schalt.error(404, 'not_found', '/id', 'no event ' .. ARGV[1])
end
return {200, scheduler.encode({event = scheduler.event_view(event)})}
