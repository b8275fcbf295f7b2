-- prelude.lua: put in front of every script of every service (schalt_scripts_register).
--
-- Contract of a command's script (schalt_server.h): KEYS[1] is the request key,
-- <service>:{tag}:request:<request id>, where the request id's digest and reply
-- are remembered; ARGV[1] is the digest of the request, ARGV[2] the seconds to
-- remember it, ARGV[3] the time now in UTC seconds, ARGV[4] the body as JSON,
-- and what the command's prepare function added follows from ARGV[5] on.
-- A script that changes state checks everything before its first write (Redis
-- does not roll a script back), and returns through schalt.answer or
-- schalt.fail so that the reply is stored in the same atomic step as the change.
local schalt = {}
schalt.touched = {} -- outbox lists written by this script, for the relay
schalt.touched_set = {}
-- The prefix of every key in this script's hash tag, '<service>:{tag}:', and
-- the request id (both from KEYS[1]): a service builds its key names from it
schalt.prefix = string.match(KEYS[1] or '', '^[^{]*{[^}]*}:') or ''
schalt.request_id = string.match(KEYS[1] or '', ':request:(.*)$')

-- UTC seconds as RFC 3339 text, '2027-03-13T09:00:00Z' (Redis's Lua has no
-- os.date): the days since 1970 to a Gregorian date (H. Hinnant's algorithm).
function schalt.instant(seconds)
    seconds = math.floor(tonumber(seconds))
    local days = math.floor(seconds / 86400)
    local rest = seconds - days * 86400
    days = days + 719468
    local era = math.floor(days / 146097)
    local day_of_era = days - era * 146097
    local year_of_era = math.floor((day_of_era - math.floor(day_of_era / 1460)
        + math.floor(day_of_era / 36524) - math.floor(day_of_era / 146096)) / 365)
    local day_of_year = day_of_era - (365 * year_of_era + math.floor(year_of_era / 4)
        - math.floor(year_of_era / 100))
    local month_index = math.floor((5 * day_of_year + 2) / 153)
    local day = day_of_year - math.floor((153 * month_index + 2) / 5) + 1
    local month = month_index < 10 and month_index + 3 or month_index - 9
    local year = year_of_era + era * 400 + (month <= 2 and 1 or 0)
    return string.format('%04d-%02d-%02dT%02d:%02d:%02dZ', year, month, day,
        math.floor(rest / 3600), math.floor(rest % 3600 / 60), rest % 60)
end

-- The time now (ARGV[3]) as RFC 3339 text.
function schalt.now()
    return schalt.instant(ARGV[3])
end

-- The request's body (ARGV[4]) as a table.
function schalt.body()
    return cjson.decode(ARGV[4])
end

-- The stored reply if this request id was seen before, else nil. A reused id
-- with a different request is refused and changes nothing.
function schalt.replay()
    local seen = redis.call('HMGET', KEYS[1], 'digest', 'status', 'body')
    if not seen[1] then
        return nil
    end
    if seen[1] ~= ARGV[1] then
        return {409, cjson.encode({error = {code = 'request_id_reused', field = 'envelope/id',
            message = 'this request id was already used for a different request'}})}
    end
    return {tonumber(seen[2]), seen[3]}
end

-- Remember and return the reply; topic and event (optional) are published,
-- and the relay learns which outbox lists to send from. The reply has four
-- elements or more, so that the server tells it from a replay's two (a
-- change it writes to its audit log, a replay it does not).
function schalt.answer(status, body, topic, event)
    redis.call('HSET', KEYS[1], 'digest', ARGV[1], 'status', status, 'body', body)
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    return {status, body, topic or '', event or '', unpack(schalt.touched)}
end

-- Append a message for another daemon to an outbox list, in this atomic
-- step (rule 4). body is JSON text; id is unique and the receiver's request id.
-- The list must share the script's hash tag: <sender>:{tag}:outbox:<peer>.
function schalt.outbox(key, id, command, body)
    redis.call('RPUSH', key, '{"id":' .. cjson.encode(id) .. ',"command":' .. cjson.encode(command)
        .. ',"body":' .. body .. '}')
    -- each list once in the reply, however many messages went to it
    schalt.touch(key)
end

-- Names a key in the reply, once however often it is named: the outbox
-- lists schalt.outbox wrote (the relay sends from them), and any other key
-- for the service (schalt_server_on_touch), a due-time index, say.
function schalt.touch(key)
    if not schalt.touched_set[key] then
        schalt.touched_set[key] = true
        schalt.touched[#schalt.touched + 1] = key
    end
end

-- An error reply that is not remembered (for scripts that only read).
function schalt.error(status, code, field, message)
    return {status, cjson.encode({error = {code = code, field = field, message = message}})}
end

-- Remember and return an error reply.
function schalt.fail(status, code, field, message)
    return schalt.answer(status, cjson.encode({error = {code = code, field = field,
        message = message}}))
end

-- cjson writes an empty Lua table as {}; fields named in arrays are lists,
-- so turn their empty objects into []. A quote inside a string value is
-- escaped, so the pattern can only match a key.
function schalt.encode(object, arrays)
    local text = cjson.encode(object)
    for _, name in ipairs(arrays or {}) do
        text = string.gsub(text, '"' .. name .. '":{}', '"' .. name .. '":[]')
    end
    return text
end

-- A Redis hash reply as a Lua table.
function schalt.hash(reply)
    local result = {}
    for index = 1, #reply, 2 do
        result[reply[index]] = reply[index + 1]
    end
    return result
end

-- The hash at key as a table, or nil if there is none.
function schalt.load(key)
    local reply = redis.call('HGETALL', key)
    if #reply == 0 then return nil end
    return schalt.hash(reply)
end

-- Writes the fields of a table into the hash at key (values as text).
function schalt.store(key, record)
    local flat = {}
    for name, value in pairs(record) do
        flat[#flat + 1] = name
        flat[#flat + 1] = tostring(value)
    end
    redis.call('HSET', key, unpack(flat))
end

