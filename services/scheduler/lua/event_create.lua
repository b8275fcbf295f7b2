-- event.create: ARGV[5] the new event as JSON (made and checked by its prepare
-- function: id, times in UTC, stamps).
local seen = schalt.replay()
if seen then return seen end
local event = cjson.decode(ARGV[5])
local key = scheduler.event_key(event.id)
if redis.call('EXISTS', key) == 1 then
    return schalt.error(500, 'id_collision', '', 'a new id was taken; retry with a new request id')
end
schalt.store(key, event)
redis.call('ZADD', scheduler.index_key, event.start_ts, event.id)
local body = scheduler.encode({event = scheduler.event_view(event)})
return schalt.answer(201, body, 'event.created', body)
