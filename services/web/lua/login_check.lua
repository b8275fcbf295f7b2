-- login.check (reads): who is logged in under login (the SHA-256 of a
-- cookie), {name, role}; 404 if no such login is open.
local login = schalt.load(web.login_key(schalt.body().login))
if not login then
    return schalt.error(404, 'not_found', '/login', 'no such login (logged out or expired)')
end
return {200, cjson.encode({name = login.user, role = login.role})}
