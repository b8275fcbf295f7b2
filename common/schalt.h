/*  schalt.h - the public interface of Schaltstelle's common library.
    Every program and test includes this one header.
*/
#ifndef SCHALT_H_INCLUDED
#define SCHALT_H_INCLUDED

#include <czmq.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "schalt_client.h"
#include "schalt_clock.h"
#include "schalt_config.h"
#include "schalt_curve.h"
#include "schalt_daemon.h"
#include "schalt_envelope.h"
#include "schalt_id.h"
#include "schalt_keys.h"
#include "schalt_log.h"
#include "schalt_offsets.h"
#include "schalt_outbox.h"
#include "schalt_redis.h"
#include "schalt_schema.h"
#include "schalt_server.h"
#include "schalt_testutil.h"
#include "schalt_text.h"
#include "schalt_time.h"
#include "schalt_token.h"
#include "schalt_worker.h"

#endif
