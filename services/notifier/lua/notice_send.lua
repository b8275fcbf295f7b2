-- notice.send: KEYS[1] request, KEYS[2] the notice. ARGV[4] the reply for a
-- new notice (its view, made by the handler), ARGV[5] the time now in ms,
-- ARGV[6] the notice id, ARGV[7] the recipient's address, ARGV[8] onwards
-- the notice's fields as name, value pairs (made by the handler: everything
-- a new notice holds, state queued).
-- The notice is stored once per id, queued and due now. The handler makes
-- the record and the reply, so that Redis, which every daemon shares, only
-- stores them.
local digest = redis.call('HGET', KEYS[2], 'digest')
if digest then
    local seen = schalt.replay()
    if seen then return seen end
    -- Stored before and its replay record has expired since: the same request
    -- gets the notice as it is now, a different one under this id is refused.
    if digest ~= ARGV[1] then
        return schalt.fail(409, 'request_id_reused', 'envelope/id', 'the notice '
            .. ARGV[6] .. ' exists already and was made by a different request')
    end
    return schalt.answer(201, notifier.encode({notice = notifier.view(schalt.load(KEYS[2]))}))
end
redis.call('HSET', KEYS[2], 'digest', ARGV[1], unpack(ARGV, 8))
redis.call('ZADD', notifier.due_key, ARGV[5], ARGV[6])
redis.call('ZADD', notifier.state_key('queued'), ARGV[5], ARGV[6])
redis.call('ZADD', notifier.all_key, ARGV[5], ARGV[6])
redis.call('ZADD', notifier.to_key(ARGV[7]), ARGV[5], ARGV[6])
return schalt.answer(201, ARGV[4])
