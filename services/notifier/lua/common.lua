-- common.lua: what every notifier script shares (put in front of each by the
-- server, and by the delivery loop for its own). The keys are listed in
-- notifier_store.h. Every key carries the one hash tag {notices}: the
-- delivery scripts move a notice between the queue and the indexes in one
-- step, so for now all of it lives in one Cluster slot.
local notifier = {}
-- The prefix comes from KEYS[1] (a request key, or the due queue or the lock
-- for the delivery scripts), in the tag notifier.c's s_tag names
notifier.prefix = schalt.prefix
notifier.due_key = notifier.prefix .. 'due'
notifier.all_key = notifier.prefix .. 'all'
notifier.states = {'queued', 'sending', 'sent', 'deferred', 'failed'}

function notifier.notice_key(id) return notifier.prefix .. 'notice:' .. id end
function notifier.state_key(state) return notifier.prefix .. 'state:' .. state end
function notifier.to_key(email) return notifier.prefix .. 'to:' .. string.lower(email) end

-- A notice as clients see it (reply/notice.get.json): no variables, no
-- bookkeeping; next_attempt while it waits, reason once it has one.
function notifier.view(notice)
    local view = {id = notice.id, template = notice.template, language = notice.language,
        recipient = {name = notice.name, email = notice.email}, state = notice.state,
        attempts = cjson.decode(notice.attempts), created = notice.created,
        updated = notice.updated}
    if (notice.state == 'queued' or notice.state == 'deferred') and notice.next_attempt ~= '' then
        view.next_attempt = notice.next_attempt
    end
    if notice.reason ~= '' then view.reason = notice.reason end
    return view
end

-- Encodes {name = view}, keeping empty lists lists.
function notifier.encode(wrapper)
    return schalt.encode(wrapper, {'attempts', 'notices'})
end

-- Moves a notice into a state: the state indexes, scored by now_ms. With
-- outcome, also the indexes by last outcome (all, to:<address>): a notice
-- being claimed for sending keeps its place there, one that is queued,
-- sent, deferred or failed moves to the front. The caller writes the hash
-- fields; notice needs id, state and email.
function notifier.move(notice, state, now_ms, outcome)
    redis.call('ZREM', notifier.state_key(notice.state), notice.id)
    redis.call('ZADD', notifier.state_key(state), now_ms, notice.id)
    if outcome then
        redis.call('ZADD', notifier.all_key, now_ms, notice.id)
        redis.call('ZADD', notifier.to_key(notice.email), now_ms, notice.id)
    end
end

-- The number of notices in each state, as JSON.
function notifier.counts()
    local counts = {}
    for _, state in ipairs(notifier.states) do
        counts[state] = redis.call('ZCARD', notifier.state_key(state))
    end
    return cjson.encode(counts)
end
