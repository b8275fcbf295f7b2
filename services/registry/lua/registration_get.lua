-- registration.get (reads only): KEYS[1] the registration. ARGV[1] its id.
local registration = schalt.load(KEYS[1])
if not registration then
    return schalt.error(404, 'not_found', '/id', 'no registration ' .. ARGV[1])
end
return {200, cjson.encode({registration = registry.view(registration,
    registry.prefix(registration.session))})}
