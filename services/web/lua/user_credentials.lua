-- user.credentials (reads): what the login page checks a password against,
-- the account's role and hash, and whether it is locked. An unknown name
-- is 404 (the page says the same as for a wrong password).
local name = schalt.body().name
local user = schalt.load(web.user_key(name))
if not user then
    return schalt.error(404, 'not_found', '/name', 'no account ' .. name)
end
local locked = web.locked(name)
return {200, cjson.encode({name = name, role = user.role, hash = user.hash, locked = locked})}
