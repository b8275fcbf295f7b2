/*  schalt-web - the web front's daemon. Wiring only: the service is in
    web_service.c, the web server in web.c, its pages in web_*.c.
*/
#include "web.h"

int
main (int argc, char **argv)
{
    return schalt_daemon_main (argc, argv, &web_service);
}
