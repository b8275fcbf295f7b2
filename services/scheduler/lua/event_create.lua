-- event.create: KEYS[1] request, KEYS[2] the event, KEYS[3] the index of events by start.
-- ARGV[4] the new event as JSON (made and checked by the handler).
local seen = schalt.replay()
if seen then return seen end
local event = cjson.decode(ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then
    return schalt.error(500, 'id_collision', '', 'a new id was taken; retry with a new request id')
end
schalt.store(KEYS[2], event)
redis.call('ZADD', KEYS[3], event.start_ts, event.id)
local body = scheduler.encode({event = scheduler.event_view(event)})
return schalt.answer(201, body, 'event.created', body)
