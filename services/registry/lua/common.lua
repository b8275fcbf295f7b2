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
--   registry:{evt-X}:session:<ses-id>:offered     zset: ids holding an offered seat, by arrival
--   registry:{evt-X}:session:<ses-id>:emails      hash: lower-cased address -> registration id
--                                                 (while it holds a seat or waitlist place)
--   registry:{evt-X}:session:<ses-id>:all         zset: every registration ever made, by arrival
--   registry:{evt-X}:session:<ses-id>:codes       hash: check-in code -> registration id
--   registry:{evt-X}:session:<ses-id>:alerts      hash: for each capacity alert (80, 100,
--                                                 waitlist) whether it stands (1/0) and
--                                                 how often it was crossed (<kind>_count)
--   registry:{evt-X}:sessions                     zset: the event's session ids by start
--   registry:{evt-X}:registration:<reg-id>        hash: one person's registration for one
--                                                 session (forever)
--   registry:{evt-X}:person:<address>             set: the registrations (seat or waitlist)
--                                                 that a lower-cased address holds in the event
--   registry:{evt-X}:due                          zset: offered ids by the time (UTC
--                                                 seconds) their offer runs out; the
--                                                 registry's timer expires them
--   registry:{evt-X}:overfull                     set: the event's sessions holding more seats
--                                                 than their (lowered) capacity
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
function registry.person_key(address) return schalt.prefix .. 'person:' .. address end
registry.sessions_key = schalt.prefix .. 'sessions'
registry.arrivals_key = schalt.prefix .. 'arrivals'
registry.due_key = schalt.prefix .. 'due'
registry.notifier_outbox = schalt.prefix .. 'outbox:notifier'

-- Fields of a registration as clients see them, in order.
local registration_fields = {'id', 'session', 'name', 'email', 'institution', 'privacy', 'language', 'status',
    'created', 'code', 'offer_until', 'promoted', 'checked_in', 'ended', 'ended_by', 'reason'}

-- A registration as clients see it, with its waitlist position if waitlisted
-- (position, when the caller knows it, saves looking it up).
function registry.view(registration, position)
    local view = {}
    for _, name in ipairs(registration_fields) do
        if registration[name] and registration[name] ~= '' then view[name] = registration[name] end
    end
    if registration.late == '1' then view.late = true end
    if registration.status == 'waitlisted' and position then
        view.position = position
    elseif registration.status == 'waitlisted' then
        local rank = redis.call('ZRANK', registry.session_list_key(registration.session, 'waitlist'),
            registration.id)
        if rank then view.position = rank + 1 end
    end
    return view
end

-- A registration's statuses: confirmed (holds a seat), waitlisted, offered
-- (a seat is held for it to accept); and the ends: cancelled (gave a seat
-- back), left (left the waitlist), declined (an offer), expired (an offer
-- not taken in time).
registry.ended = {cancelled = true, left = true, declined = true, expired = true}
registry.ended_words = {cancelled = 'cancelled', left = 'taken off the waitlist',
    declined = 'declined (the offered seat)', expired = 'offered a seat that was not taken in time'}

-- The links a registration's e-mails carry: to cancel a seat, or to leave
-- the waitlist (the notifier signs them, schalt_token.h). A link works until
-- the session's end; whether its action is still allowed is for the script
-- it calls to decide.
function registry.link(registration, session)
    if registration.status == 'confirmed' then
        return {action = 'cancel', subject = registration.id, expires = session['end']}
    elseif registration.status == 'waitlisted' or registration.status == 'offered' then
        return {action = 'decline', subject = registration.id, expires = session['end']}
    end
    return nil
end

local function links(registration, session)
    local link = registry.link(registration, session)
    if not link then return nil end
    if registration.status == 'offered' then
        -- (the accept link lasts as long as the others: the script says
        -- when the offer ran out, which is more than "expired")
        return {decline_url = link, accept_url = {action = 'accept', subject = registration.id,
            expires = session['end']}}
    end
    return link.action == 'cancel' and {cancel_url = link} or {leave_url = link}
end

-- Sends the notice id (unique for what it tells: made from the registration
-- and the change) with template to the registration's person, through the
-- outbox in this same step: the session's facts, the person's name, the
-- links their status calls for, and extra variables (a table, may be nil).
-- sessions (may be nil) lists what the notice is about, for
-- {{session_list}}: {title, room, start, end, [status, position, link]} each;
-- own_links (may be nil) replaces the registration's links.
--
-- An e-mail about a date carries its calendar entry (the notifier writes it
-- as iCalendar, RFC 5545/6047): REQUEST adds or updates the entry of each
-- registration that holds a seat, CANCEL removes that of each that gave one
-- back. One UID per registration (its id), kept for its whole life; the
-- SEQUENCE is the session's revision, which grows with every change.
-- entries (may be nil) are the {registration, session} pairs the e-mail is
-- about, when it is about several; else the one it names.
local calendar_method = {['registration-confirmed'] = 'REQUEST',
    ['registration-promoted'] = 'REQUEST', ['registrations-made'] = 'REQUEST',
    ['session-moved'] = 'REQUEST', ['session-reminder'] = 'REQUEST',
    ['registration-cancelled'] = 'CANCEL', ['registration-cancelled-by-office'] = 'CANCEL',
    ['session-cancelled'] = 'CANCEL', ['event-cancelled'] = 'CANCEL'}

local function calendar(template, registration, session, entries)
    local method = calendar_method[template]
    if not method then return nil end
    local wanted = method == 'REQUEST' and 'confirmed' or 'cancelled'
    local events = {}
    for _, entry in ipairs(entries or {{registration = registration, session = session}}) do
        if entry.registration.status == wanted then
            events[#events + 1] = {uid = entry.registration.id,
                sequence = tonumber(entry.session.revision) or 0, start = entry.session.start,
                ['end'] = entry.session['end'], title = entry.session.title,
                room = entry.session.room, place = entry.session.place,
                event_title = entry.session.event_title}
        end
    end
    if #events == 0 then return nil end
    return {method = method, events = events}
end

function registry.notify(notice_id, template, registration, session, extra, sessions, own_links,
                         entries)
    local variables = {event_title = session.event_title, session_title = session.title,
        room = session.room, place = session.place, start = session.start,
        ['end'] = session['end'], recipient_name = registration.name}
    for name, value in pairs(extra or {}) do variables[name] = value end
    schalt.outbox(registry.notifier_outbox, notice_id, 'notice.send', cjson.encode({
        template = template, language = registration.language,
        recipient = {name = registration.name, email = registration.email},
        variables = variables, links = own_links or links(registration, session),
        sessions = sessions, calendar = calendar(template, registration, session, entries)}))
end

-- The seats of the session that are taken: confirmed, and held for an offer.
function registry.seats_taken(session)
    return redis.call('ZCARD', registry.session_list_key(session.id, 'confirmed'))
        + redis.call('ZCARD', registry.session_list_key(session.id, 'offered'))
end

-- Stores a new registration (its status decided) in its session's seats
-- or waitlist, at the end of the arrival order, with its check-in code (the
-- one it brings, or, if the session has that already, the last six
-- characters of its id).
function registry.add(registration, session)
    local order = redis.call('INCR', registry.arrivals_key)
    registration.arrival = order
    local codes = registry.session_list_key(session.id, 'codes')
    if redis.call('HSETNX', codes, registration.code, registration.id) == 0 then
        local rest = string.upper(string.sub(registration.id, 20))
        registration.code = string.sub(rest, 1, 3) .. '-' .. string.sub(rest, 4, 6)
        if redis.call('HSETNX', codes, registration.code, registration.id) == 0 then
            registration.code = ''
        end
    end
    schalt.store(registry.registration_key(registration.id), registration)
    local list = registration.status == 'confirmed' and 'confirmed' or 'waitlist'
    redis.call('ZADD', registry.session_list_key(session.id, list), order, registration.id)
    redis.call('ZADD', registry.session_list_key(session.id, 'all'), order, registration.id)
    redis.call('HSET', registry.session_list_key(session.id, 'emails'),
        string.lower(registration.email), registration.id)
    redis.call('SADD', registry.person_key(string.lower(registration.email)), registration.id)
end

-- Takes an ended registration out of the indexes of what people hold.
function registry.release(registration)
    local address = string.lower(registration.email)
    local emails = registry.session_list_key(registration.session, 'emails')
    if redis.call('HGET', emails, address) == registration.id then
        redis.call('HDEL', emails, address)
    end
    redis.call('SREM', registry.person_key(address), registration.id)
end

-- A notice id made from a registration id and what happened: ntc-<the id
-- without reg->-<what>.
function registry.notice_id(registration_id, what)
    return 'ntc-' .. string.sub(registration_id, 5) .. '-' .. what
end

-- The time (UTC seconds) until which a registration of the session may be
-- cancelled by its person: the session's cancel_until, never past its start.
function registry.deadline(session)
    local start = tonumber(session.start_ts)
    local until_ts = tonumber(session.cancel_until_ts or '')
    if until_ts and until_ts < start then return until_ts end
    return start
end

-- Why a registration may not end now (at UTC seconds now) by action (cancel
-- or decline) of by (organiser or participant): status, code and message,
-- or nil and whether it is a late cancellation. registration.cancel,
-- registration.decline and registration.show ask it, so that the page
-- behind a link says beforehand what the button would answer.
function registry.end_refusal(registration, session, action, by, now)
    local id = registration.id
    if registry.ended[registration.status] then
        return 409, 'already_ended', 'the registration ' .. id .. ' was already '
            .. (registry.ended_words[registration.status] or 'cancelled') .. ' ('
            .. registration.ended .. ')'
    end
    if tonumber(session.start_ts) <= now then
        return 409, 'session_past', 'the session ' .. session.id
            .. ' has begun: its registrations can no longer be cancelled'
    end
    local holds_seat = registration.status == 'confirmed'
    if action == 'decline' and holds_seat then
        return 409, 'holds_seat', 'the registration ' .. id .. ' holds a seat now;'
            .. ' the e-mail that told of it has the link to cancel'
    end
    local late = holds_seat and now > registry.deadline(session)
    if late and by == 'participant' then
        return 409, 'deadline_passed', 'cancellations for this session ended at '
            .. (session.cancel_until or session.start) .. '; please contact the office'
    end
    return nil, late
end

-- Why an offered seat may not be taken now (UTC seconds): status, code and
-- message, or nil (registration.accept and registration.show).
function registry.accept_refusal(registration, session, now)
    local id = registration.id
    if registration.status == 'confirmed' then
        return 409, 'already_accepted', 'the registration ' .. id .. ' holds its seat already'
    end
    if registration.status == 'expired' or (registration.status == 'offered'
        and tonumber(registration.offer_until_ts) <= now) then
        return 409, 'offer_expired', 'the offer ran out at ' .. registration.offer_until
            .. '; the seat went to the next person waiting'
    end
    if registry.ended[registration.status] then
        return 409, 'already_ended', 'the registration ' .. id .. ' was '
            .. registry.ended_words[registration.status] .. ' (' .. registration.ended .. ')'
    end
    if registration.status ~= 'offered' then
        return 409, 'not_offered', 'the registration ' .. id
            .. ' is on the waitlist; no seat is offered to it (now)'
    end
    if tonumber(session.start_ts) <= now then
        return 409, 'session_past', 'the session ' .. session.id .. ' has begun'
    end
    return nil
end

-- Gives the session's free seats to the first on its waitlist, in order,
-- as long as the session is scheduled and has not begun at now (UTC
-- seconds). With promotion auto a seat is theirs at once
-- (registration-promoted); with offer it is held for them until
-- hold_hours from now, never past the start (registration-offered, with
-- accept and decline links), and goes into the due index. A capacity
-- lowered below the seats taken frees none until enough have ended.
-- Returns the ids promoted or offered, in order.
function registry.fill(session, now, stamp)
    local given = {}
    if session.status ~= 'scheduled' or tonumber(session.start_ts) <= now then return given end
    local waitlist = registry.session_list_key(session.id, 'waitlist')
    local offer = session.promotion == 'offer'
    local free = tonumber(session.capacity) - registry.seats_taken(session)
    while free > 0 do
        local first = redis.call('ZRANGE', waitlist, 0, 0, 'WITHSCORES')
        if #first == 0 then break end
        local id = first[1]
        local key = registry.registration_key(id)
        redis.call('ZREM', waitlist, id)
        if offer then
            local until_ts = math.min(now + 3600 * (tonumber(session.hold_hours) or 48),
                tonumber(session.start_ts))
            redis.call('ZADD', registry.session_list_key(session.id, 'offered'), first[2], id)
            redis.call('ZADD', registry.due_key, until_ts, id)
            schalt.touch(registry.due_key)
            redis.call('HSET', key, 'status', 'offered', 'offered', stamp, 'offer_until',
                schalt.instant(until_ts), 'offer_until_ts', until_ts)
            local registration = schalt.load(key)
            registry.notify(registry.notice_id(id, 'offered-' .. until_ts),
                'registration-offered', registration, session,
                {offer_until = registration.offer_until})
        else
            redis.call('ZADD', registry.session_list_key(session.id, 'confirmed'), first[2], id)
            redis.call('HSET', key, 'status', 'confirmed', 'promoted', stamp)
            local registration = schalt.load(key)
            registry.notify(registry.notice_id(id, 'promoted'), 'registration-promoted',
                registration, session, {code = registration.code})
        end
        given[#given + 1] = id
        free = free - 1
    end
    return given
end

-- Ends every registration of the session (its seats, then its waitlist),
-- because the session or its event was cancelled: status cancelled (a seat)
-- or left (the waitlist), ended_by session_cancelled, with the reason.
-- Returns what ended, in order: {registration, was (status), position}.
function registry.end_all(session, reason, stamp)
    local ended = {}
    redis.call('SREM', schalt.prefix .. 'overfull', session.id)
    for _, list in ipairs({'confirmed', 'offered', 'waitlist'}) do
        local key = registry.session_list_key(session.id, list)
        for index, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
            local registration = schalt.load(registry.registration_key(id))
            if list == 'offered' then redis.call('ZREM', registry.due_key, id) end
            if registration then
            local was = registration.status
            registration.status = list == 'confirmed' and 'cancelled' or 'left'
            if list == 'offered' then registration.status = 'declined' end
            redis.call('HSET', registry.registration_key(id), 'status', registration.status,
                'ended', stamp, 'ended_by', 'session_cancelled', 'reason', reason, 'late', '0')
            registry.release(registration)
            ended[#ended + 1] = {registration = registration, was = was,
                position = list == 'waitlist' and index or nil}
            end
        end
        redis.call('DEL', key)
    end
    return ended
end

-- True if facts that follow old move the session for the people in it: its
-- times, room or place changed.
function registry.moved(old, session)
    return old.start_ts ~= session.start_ts or old.end_ts ~= session.end_ts
        or old.room ~= session.room or old.place ~= session.place
end

-- Tells everyone registered (seats and waitlist) that the session moved
-- from old: session-moved, one notice per registration and revision; not
-- those in skip (a set of ids: promoted in this step, their e-mail has the
-- new facts already). Returns how many were told.
function registry.tell_moved(old, session, skip)
    local told = 0
    for _, list in ipairs({'confirmed', 'offered', 'waitlist'}) do
        local key = registry.session_list_key(session.id, list)
        for index, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
            local registration = schalt.load(registry.registration_key(id))
            if registration and not skip[id] then
            registry.notify(registry.notice_id(id, 'moved-' .. session.revision), 'session-moved',
                registration, session, {old_start = old.start, old_end = old['end'],
                old_room = old.room, old_place = old.place,
                position = list == 'waitlist' and tostring(index) or nil})
            told = told + 1
            end
        end
    end
    return told
end

-- The session was cancelled: its registrations end, and each person is
-- told (session-cancelled, with the reason). Returns how many were told.
function registry.cancel_session(session, reason, stamp)
    local ended = registry.end_all(session, reason, stamp)
    for _, item in ipairs(ended) do
        registry.notify(registry.notice_id(item.registration.id, 'session-cancelled'),
            'session-cancelled', item.registration, session, {reason = reason})
    end
    return #ended
end

-- The event was cancelled: every session of it that the registry still
-- holds as scheduled ends now (the facts of the others follow and find
-- them cancelled), and each person gets one e-mail listing every session of
-- theirs (event-cancelled, at most SESSION_LIST_MAX of them), its id made
-- from their first registration. A session that is over by now is marked
-- cancelled, and its registrations stay as they were: nobody is told.
-- Returns how many people were told.
local SESSION_LIST_MAX = 200
function registry.cancel_event(first, reason, stamp, now)
    local people, order = {}, {}
    for _, id in ipairs(redis.call('ZRANGE', registry.sessions_key, 0, -1)) do
        local session = id == first.id and first or schalt.load(registry.session_key(id))
        if session and (session.status == 'scheduled' or id == first.id) then
            if id ~= first.id then
                redis.call('HSET', registry.session_key(id), 'status', 'cancelled',
                    'event_status', 'cancelled')
            end
            local ended = {}
            if tonumber(session.end_ts) > now then ended = registry.end_all(session, reason, stamp) end
            for _, item in ipairs(ended) do
                local address = string.lower(item.registration.email)
                local person = people[address]
                if not person then
                    person = {registration = item.registration, session = session, sessions = {},
                        entries = {}}
                    people[address] = person
                    order[#order + 1] = address
                end
                if #person.sessions < SESSION_LIST_MAX then
                person.sessions[#person.sessions + 1] = {title = session.title, room = session.room,
                    start = session.start, ['end'] = session['end'],
                    status = item.was == 'waitlisted' and 'waitlisted' or nil,
                    position = item.position and tostring(item.position) or nil}
                person.entries[#person.entries + 1] = {registration = item.registration,
                    session = session}
                end
            end
        end
    end
    for _, address in ipairs(order) do
        local person = people[address]
        registry.notify(registry.notice_id(person.registration.id, 'event-cancelled'),
            'event-cancelled', person.registration, person.session, {reason = reason},
            person.sessions, nil, person.entries)
    end
    return #order
end

-- Capacity alerts: when a session's seats taken reach 80 % or 100 % of its
-- capacity, or its waitlist grows past the event's waitlist_alert, the
-- event's organiser (if it has one) gets one e-mail per threshold crossed
-- (capacity-alert); the alert stands until the count falls below the
-- threshold again, and is sent again only when it is crossed again. Its
-- notice id counts the crossings: ntc-<session without ses->-alert-<kind>-<n>.
function registry.alert(session)
    if not session then return end
    local overfull = schalt.prefix .. 'overfull'
    if session.status ~= 'scheduled' then
        redis.call('SREM', overfull, session.id)
        return
    end
    local key = registry.session_list_key(session.id, 'alerts')
    local capacity = tonumber(session.capacity)
    local taken = registry.seats_taken(session)
    local waiting = redis.call('ZCARD', registry.session_list_key(session.id, 'waitlist'))
    local limit = tonumber(session.waitlist_alert) or 10
    local kinds = {
        {'80', taken * 5 >= capacity * 4},
        {'100', taken >= capacity},
        {'waitlist', waiting > limit}}
    -- Over-full (a lowered capacity): listed for the registry's status
    if taken > capacity then
        if redis.call('SADD', overfull, session.id) == 1 then schalt.touch(overfull) end
    else
        redis.call('SREM', overfull, session.id)
    end
    local stood = schalt.hash(redis.call('HGETALL', key))
    -- 80 % and 100 % crossed in one step (a small session): one e-mail, the full one
    if kinds[2][2] and stood['100'] ~= '1' and stood['80'] ~= '1' then
        redis.call('HSET', key, '80', '1')
        stood['80'] = '1'
    end
    for _, kind in ipairs(kinds) do
        local name, now_over = kind[1], kind[2]
        if now_over and stood[name] ~= '1' then
            local count = redis.call('HINCRBY', key, name .. '_count', 1)
            redis.call('HSET', key, name, '1')
            if session.organiser_email and session.organiser_email ~= '' then
                local organiser = {name = session.organiser_name ~= '' and session.organiser_name
                    or session.organiser_email, email = session.organiser_email, language = 'de'}
                registry.notify('ntc-' .. string.sub(session.id, 5) .. '-alert-' .. name .. '-'
                    .. count, 'capacity-alert', {name = organiser.name, email = organiser.email,
                    language = 'de', status = 'organiser'}, session,
                    {taken = tostring(taken), capacity = tostring(capacity),
                    waiting = tostring(waiting), limit = tostring(limit),
                    eighty = name == '80' and '1' or '', full = name == '100' and '1' or '',
                    long_waitlist = name == 'waitlist' and '1' or ''})
            end
        elseif not now_over and stood[name] == '1' then
            redis.call('HSET', key, name, '0')
        end
    end
end
