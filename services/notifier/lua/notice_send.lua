-- notice.send: KEYS[1] request, KEYS[2] the notice. ARGV[4] the notice as
-- JSON (made by the handler: id, template, language, name, email,
-- variables as JSON text, created), ARGV[5] the time now in ms.
-- The notice is stored once per id, queued and due now.
local seen = schalt.replay()
if seen then return seen end
local existing = schalt.load(KEYS[2])
if existing then
    -- Stored before and its replay record has expired since: the same request
    -- gets the notice as it is now, a different one under this id is refused.
    if existing.digest ~= ARGV[1] then
        return schalt.fail(409, 'request_id_reused', 'envelope/id', 'the notice '
            .. existing.id .. ' exists already and was made by a different request')
    end
    return schalt.answer(201, notifier.encode({notice = notifier.view(existing)}))
end
local notice = cjson.decode(ARGV[4])
notice.digest = ARGV[1]
notice.state = 'queued'
notice.updated = notice.created
notice.created_ms = ARGV[5]
notice.updated_ms = ARGV[5]
notice.next_attempt = notice.created
notice.reason = ''
notice.attempts = '[]'
notice.deferrals = 0
schalt.store(KEYS[2], notice)
redis.call('ZADD', notifier.due_key, ARGV[5], notice.id)
redis.call('ZADD', notifier.state_key('queued'), ARGV[5], notice.id)
redis.call('ZADD', notifier.all_key, ARGV[5], notice.id)
redis.call('ZADD', notifier.to_key(notice.email), ARGV[5], notice.id)
return schalt.answer(201, notifier.encode({notice = notifier.view(notice)}))
