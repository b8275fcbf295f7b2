-- notice.send: the notice's id is the request id. ARGV[5] the reply for a
-- new notice (its view, made by the prepare function), ARGV[6] the time now
-- in ms, ARGV[7] the recipient's address, ARGV[8] onwards the notice's fields
-- as name, value pairs (everything a new notice holds, state queued).
-- The notice is stored once per id, queued and due now. The prepare function
-- makes the record and the reply, so that Redis, which every daemon shares,
-- only stores them.
local id = schalt.request_id
local key = notifier.notice_key(id)
local digest = redis.call('HGET', key, 'digest')
if digest then
    local seen = schalt.replay()
    if seen then return seen end
    -- Stored before and its replay record has expired since: the same request
    -- gets the notice as it is now, a different one under this id is refused.
    if digest ~= ARGV[1] then
        return schalt.fail(409, 'request_id_reused', 'envelope/id', 'the notice '
            .. id .. ' exists already and was made by a different request')
    end
    return schalt.answer(201, notifier.encode({notice = notifier.view(schalt.load(key))}))
end
redis.call('HSET', key, 'digest', ARGV[1], unpack(ARGV, 8))
redis.call('ZADD', notifier.due_key, ARGV[6], id)
redis.call('ZADD', notifier.state_key('queued'), ARGV[6], id)
redis.call('ZADD', notifier.all_key, ARGV[6], id)
redis.call('ZADD', notifier.to_key(ARGV[7]), ARGV[6], id)
return schalt.answer(201, ARGV[5])
