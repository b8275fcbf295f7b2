-- registration.get (reads only): the body's id.
local id = schalt.body().id
local registration = schalt.load(registry.registration_key(id))
if not registration then
    return schalt.error(404, 'not_found', '/id', 'no registration ' .. id)
end
return {200, cjson.encode({registration = registry.view(registration)})}
