-- common.lua: what every registry script shares (put in front of each by the
-- server), and the one place that names the registry's keys.
--
-- Every key of an event's sessions carries the event's id as hash tag,
-- {evt-...}: a request may book several sessions of one event for one
-- person, and must see the person's other sessions of that event to refuse
-- an overlap, all in one atomic step, so an event is one slot of a Redis
-- Cluster. Events are independent of each other and spread over the
-- cluster. A session id and a registration id carry their event's ten
-- characters (ses-<event>-<random>, reg-<event>-<random>), so the server
-- finds the tag from any id alone (registry.c's s_tag), and schalt.prefix is
-- 'registry:{evt-X}:'.
--   registry:{evt-X}:session:<ses-id>             hash: the session's facts as the
--                                                 scheduler last told them (revision,
--                                                 times, capacity, status, event title,
--                                                 place) (forever)
--   registry:{evt-X}:session:<ses-id>:confirmed   zset: confirmed registration ids by arrival
--   registry:{evt-X}:session:<ses-id>:waitlist    zset: waitlisted ids by arrival
--   registry:{evt-X}:session:<ses-id>:emails      hash: lower-cased address -> registration id
--   registry:{evt-X}:sessions                     zset: the event's session ids by start
--   registry:{evt-X}:registration:<reg-id>        hash: one person's registration for one
--                                                 session (forever)
--   registry:{evt-X}:arrivals                     counter: the arrival order
--   registry:{evt-X}:outbox:notifier              list: notices for the notifier, until
--                                                 it acknowledges them
--   registry:{evt-X}:dead:notifier                list: notices the notifier refused
--   registry:{evt-X}:request:<request-id>         hash: replay record of a change
--                                                 (schaltstelle/request_ttl seconds)
local registry = {}

function registry.session_key(id) return schalt.prefix .. 'session:' .. id end
-- A session's confirmed or waitlist zset, or its e-mail index (name).
function registry.session_list_key(id, name) return schalt.prefix .. 'session:' .. id .. ':' .. name end
function registry.registration_key(id) return schalt.prefix .. 'registration:' .. id end
registry.sessions_key = schalt.prefix .. 'sessions'
registry.arrivals_key = schalt.prefix .. 'arrivals'
registry.notifier_outbox = schalt.prefix .. 'outbox:notifier'

-- Fields of a registration as clients see them, in order.
local registration_fields = {'id', 'session', 'name', 'email', 'institution', 'language', 'status',
    'created'}

-- A registration as clients see it, with its waitlist position if waitlisted
-- (position, when the caller knows it, saves looking it up).
function registry.view(registration, position)
    local view = {}
    for _, name in ipairs(registration_fields) do
        if registration[name] and registration[name] ~= '' then view[name] = registration[name] end
    end
    if registration.status == 'waitlisted' and position then
        view.position = position
    elseif registration.status == 'waitlisted' then
        local rank = redis.call('ZRANK', registry.session_list_key(registration.session, 'waitlist'),
            registration.id)
        if rank then view.position = rank + 1 end
    end
    return view
end
