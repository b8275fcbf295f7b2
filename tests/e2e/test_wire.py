"""test_wire - the scheduler's ZeroMQ interface, driven with a raw DEALER and SUB.

What any client could send, well-formed or not: each bad message must get the
right error reply (status, code, field; a body that follows
schemas/reply/error.json), leave Redis exactly as it was, and leave the daemon
serving. Also: request ids (a replay gets the first reply byte for byte and
changes nothing; a reused id with another body is refused), the size limit
(a too-large message disconnects only its peer), and what the daemon publishes
on its events socket (events as [topic, id, json], logs as log.<level>).
"""

import json
import time
import unittest

import harness
from harness import PROTOCOL, new_request_id

GOOD_EVENT = {
    "kind": "day-of-education",
    "title": "Tag der Bildung",
    "place": "Gesamtschule Mitte",
    "start": "2027-03-13T08:00:00Z",
    "end": "2027-03-13T16:00:00Z",
}


def event_body(**changes):
    """A valid event.create body with changes (None removes a field)."""
    body = dict(GOOD_EVENT, **changes)
    return {k: v for k, v in body.items() if v is not None}


def encode(body):
    return json.dumps(body).encode()


class WireTest(harness.E2ETestCase):
    """Bad input, request ids and the reply schemas, on one daemon."""

    # Every log line is published, down to debug
    SCHEDULER_ENV = {"SCHALT_SCHALTSTELLE_LOG_LEVEL": "debug"}

    def assertStillServes(self, dealer):
        """The daemon answers a status request on the same connection."""
        reply = self.request("status", {}, dealer=dealer)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.body["redis"]["state"], "up")

    def assertRefusedFrames(self, frames, status, code, field, reply_id):
        """Sends raw frames; expects one error reply, no change in Redis, and
        a daemon that still serves."""
        dealer = self.dealer()
        before = self.redis.snapshot()
        dealer.send(frames)
        reply = dealer.reply()
        self.assertEqual((reply.status, reply.error.get("code"), reply.error.get("field")),
                         (status, code, field), reply)
        harness.check_reply(self, "error", reply.status, reply.body)
        self.assertEqual(reply.id, reply_id, reply)
        self.assertTrue(reply.error.get("message"), reply)
        self.assertStillServes(dealer)
        self.assertEqual(self.redis.snapshot(), before)
        return reply

    def refuse(self, command, raw, status, code, field):
        """A request with a good envelope and the given body (bytes or dict)."""
        request_id = new_request_id()
        body = raw if isinstance(raw, bytes) else encode(raw)
        return self.assertRefusedFrames([PROTOCOL, command, request_id, body], status, code,
                                        field, request_id)

    # -- the body

    def test_missing_field(self):
        self.refuse("event.create", event_body(title=None), 400, "invalid", "/title")
        self.refuse("event.create", event_body(start=None), 400, "invalid", "/start")

    def test_wrong_type(self):
        event = self.request("event.create", event_body(title="Typen")).body["event"]
        session = {"event": event["id"], "title": "Sitzung", "room": "A101",
                   "start": "2027-03-13T09:00:00Z", "end": "2027-03-13T10:00:00Z",
                   "capacity": "25"}
        self.refuse("session.create", session, 400, "invalid", "/capacity")
        self.refuse("session.create", dict(session, capacity=25.5), 400, "invalid", "/capacity")
        self.refuse("event.create", event_body(title=42), 400, "invalid", "/title")
        self.refuse("event.list", {"include_cancelled": "yes"}, 400, "invalid",
                    "/include_cancelled")

    def test_unknown_field(self):
        self.refuse("event.create", event_body(colour="rot"), 400, "invalid", "/colour")
        self.refuse("status", {"verbose": True}, 400, "invalid", "/verbose")

    def test_bad_time(self):
        self.refuse("event.create", event_body(start="2027-03-13 08:00"), 400, "invalid",
                    "/start")
        self.refuse("event.create", event_body(start="2027-02-30T08:00:00Z"), 400, "invalid",
                    "/start")
        # RFC 3339 allows the year 0000; we do not, and the daemon stays up
        self.refuse("event.create", event_body(start="0000-01-01T08:00:00Z"), 400, "invalid",
                    "/start")
        self.refuse("event.list", {"from": "0000-01-01T00:00:00Z"}, 400, "invalid", "/from")

    def test_unknown_command(self):
        self.refuse("event.explode", {}, 400, "unknown_command", "envelope/command")
        self.refuse("registration.create", {}, 400, "unknown_command", "envelope/command")
        self.refuse("Event.Create", event_body(), 400, "bad_command", "envelope/command")
        self.refuse("event..create", event_body(), 400, "bad_command", "envelope/command")
        self.refuse("event.create.", event_body(), 400, "bad_command", "envelope/command")
        self.refuse("x" * 65, {}, 400, "bad_command", "envelope/command")

    def test_single_word_command_is_malformed(self):
        self.refuse("event", event_body(), 400, "bad_command", "envelope/command")

    def test_invalid_json(self):
        self.refuse("event.create", b'{"kind": "other", "title": ', 400, "invalid_json", "")
        self.refuse("event.create", b"", 400, "invalid_json", "")
        self.refuse("event.create", encode(event_body())[:-1] + b",}", 400, "invalid_json", "")
        # The same key twice: which one counts would be a guess
        self.refuse("event.list", b'{"include_cancelled": true, "include_cancelled": false}',
                    400, "invalid_json", "")

    def test_invalid_utf8(self):
        body = encode(event_body(title="TITLE")).replace(b"TITLE", b"Tag der Bildung \xc3\x28")
        self.refuse("event.create", body, 400, "invalid_json", "")
        body = encode(event_body(title="TITLE")).replace(b"TITLE", b"\xff\xfe")
        self.refuse("event.create", body, 400, "invalid_json", "")

    def test_body_not_an_object(self):
        self.refuse("event.create", b"[1, 2, 3]", 400, "invalid_json", "")
        self.refuse("event.create", b'"text"', 400, "invalid_json", "")
        self.refuse("event.list", b"null", 400, "invalid_json", "")

    def test_nul_in_title(self):
        body = encode(event_body(title="TITLE")).replace(b"TITLE", b"Tag\\u0000Bildung")
        reply = self.refuse("event.create", body, 400, "invalid_json", "")
        self.assertIn("u0000", reply.error["message"])

    def test_line_break_in_title(self):
        self.refuse("event.create", event_body(title="Tag\r\nBcc: x@example.org"), 400, "invalid",
                    "/title")
        self.refuse("event.create", event_body(title="Tag\nBildung"), 400, "invalid", "/title")
        self.refuse("event.create", event_body(place="Aula\r"), 400, "invalid", "/place")

    # -- the envelope

    def test_extra_frame_is_dropped_unanswered(self):
        # More frames than a request has: dropped unanswered (as a message over
        # the size limit), nothing stored; the daemon serves that peer's next
        # request, and everyone else's
        dealer, other = self.dealer(), self.dealer()
        self.assertStillServes(dealer)
        before = self.redis.snapshot()
        dealer.send([PROTOCOL, "event.create", new_request_id(), encode(event_body()),
                     b"erika organiser", b"extra"])
        self.assertIsNone(dealer.recv(timeout=2), "a six-frame message got an answer")
        self.assertStillServes(other)
        self.assertStillServes(dealer)
        self.assertEqual(self.redis.snapshot(), before)
        self.assertIn("request: dropped unanswered frames=7 (more than 5)",
                      self.scheduler.log_text())

    def test_fifth_frame_must_name_a_person(self):
        # A fifth frame is the web front's user, "NAME ROLE"; anything else is
        # refused naming it, and nothing is stored
        before = self.redis.snapshot()
        for user in (b"extra", b"erika web", b"Erika organiser", b"erika organiser\n"):
            dealer = self.dealer()
            dealer.send([PROTOCOL, "event.create", new_request_id(), encode(event_body()), user])
            reply = dealer.reply()
            self.assertEqual((reply.status, reply.error.get("code"), reply.error.get("field")),
                             (400, "bad_user", "envelope/user"), user)
        self.assertEqual(self.redis.snapshot(), before)

    def test_three_frames(self):
        request_id = new_request_id()
        self.assertRefusedFrames([PROTOCOL, "event.create", request_id], 400, "bad_envelope",
                                 "envelope", request_id)
        self.assertRefusedFrames([PROTOCOL], 400, "bad_envelope", "envelope", "-")

    def test_wrong_protocol(self):
        request_id = new_request_id()
        for protocol in (b"SCHALT/2", b"schalt/1", b"", b"SCHALT/1 "):
            with self.subTest(protocol=protocol):
                self.assertRefusedFrames([protocol, "event.create", request_id,
                                          encode(event_body())], 400, "bad_protocol",
                                         "envelope/protocol", request_id)

    def test_bad_request_id(self):
        for request_id in (b"with space", b"x" * 65, b"", b"id\nx", "ümlaut".encode()):
            with self.subTest(request_id=request_id):
                self.assertRefusedFrames([PROTOCOL, "event.create", request_id,
                                          encode(event_body())], 400, "bad_id", "envelope/id",
                                         "-")
        # 64 characters are fine
        request_id = "r" * 64
        reply = self.request("event.create", event_body(title="Lange Id"), request_id)
        self.assertEqual((reply.status, reply.id), (201, request_id))

    # -- request ids

    def test_replay_returns_first_reply(self):
        request_id = new_request_id()
        body = event_body(title="Wiederholt %s" % request_id)
        dealer = self.dealer()
        first = self.request("event.create", body, request_id, dealer)
        self.assertEqual(first.status, 201, first)
        after_first = self.redis.snapshot()
        # Again, once as is and once with its keys in another order
        again = self.request("event.create", body, request_id, dealer)
        self.assertEqual(again.frames, first.frames)
        reordered = json.dumps(dict(reversed(list(body.items())))).encode()
        again = self.request("event.create", reordered, request_id, self.dealer())
        self.assertEqual(again.frames, first.frames)
        self.assertEqual(self.redis.snapshot(), after_first)
        titled = [event_id for event_id, stored in self.redis.stored_events().items()
                  if stored["title"] == body["title"]]
        self.assertEqual(titled, [first.body["event"]["id"]])

        # A refusal is remembered the same way
        request_id = new_request_id()
        missing = {"id": "evt-0000000000", "title": "Neu"}
        refused = self.request("event.update", missing, request_id)
        self.assertEqual((refused.status, refused.error["code"]), (404, "not_found"))
        self.assertEqual(self.request("event.update", missing, request_id).frames, refused.frames)

    def test_reused_id_with_other_body(self):
        request_id = new_request_id()
        first = self.request("event.create", event_body(title="Erstes"), request_id)
        self.assertEqual(first.status, 201, first)
        before = self.redis.snapshot()
        dealer = self.dealer()
        for other in (event_body(title="Zweites"), event_body(title="Erstes", kind="meeting")):
            reply = self.request("event.create", other, request_id, dealer)
            self.assertEqual((reply.status, reply.error.get("code"), reply.error.get("field")),
                             (409, "request_id_reused", "envelope/id"), reply)
        # Another command with the same id and an equal body is another request, too
        reply = self.request("event.update", {"id": first.body["event"]["id"], "title": "Anders"},
                             request_id, dealer)
        self.assertEqual((reply.status, reply.error.get("code")), (409, "request_id_reused"))
        self.assertStillServes(dealer)
        self.assertEqual(self.redis.snapshot(), before)
        got = self.request("event.get", {"id": first.body["event"]["id"]})
        self.assertEqual(got.body["event"]["title"], "Erstes")

    # -- every reply follows its schema

    def test_every_command_replies_by_its_schema(self):
        """Each command once, successes and refusals; self.request checks
        each reply against schemas/reply/<command>.json or error.json."""
        event = self.request("event.create", event_body(title="Schema")).body["event"]
        self.assertEqual(self.request("event.get", {"id": event["id"]}).status, 200)
        self.assertEqual(self.request("event.list", {}).status, 200)
        self.assertEqual(self.request("event.list", {"from": "2027-03-13T00:00:00Z",
                                                     "to": "2027-03-14T00:00:00Z",
                                                     "include_cancelled": True}).status, 200)
        self.assertEqual(self.request("event.update", {"id": event["id"],
                                                       "description": "Zeile 1\nZeile 2"}).status,
                         200)
        self.assertEqual(self.request("session.list", {"event": event["id"]}).body["sessions"],
                         [])
        session = {"event": event["id"], "title": "Raum", "room": "A101", "capacity": 20,
                   "start": "2027-03-13T09:00:00Z", "end": "2027-03-13T10:00:00Z"}
        created = self.request("session.create", dict(session, topics=["schule-beruf"]))
        self.assertEqual(created.status, 201, created)
        session_id = created.body["session"]["id"]
        self.assertEqual(self.request("session.create", dict(session, room="B1")).body[
            "session"]["topics"], [])
        self.assertEqual(self.request("session.get", {"id": session_id}).status, 200)
        self.assertEqual(len(self.request("session.list", {"event": event["id"]}).body[
            "sessions"]), 2)
        self.assertEqual(self.request("session.update", {"id": session_id, "capacity": 30}).status,
                         200)
        # The room is taken: the reply names the other session
        taken = self.request("session.create", dict(session, room="a101"))
        self.assertEqual((taken.status, taken.error["code"], taken.error.get("conflict")),
                         (409, "room_taken", session_id))
        self.assertEqual(self.request("session.cancel", {"id": session_id,
                                                         "reason": "krank"}).status, 200)
        self.assertEqual(self.request("event.cancel", {"id": event["id"]}).status, 200)
        self.assertEqual(self.request("event.get", {"id": "evt-0000000000"}).status, 404)
        self.assertEqual(self.request("session.update", {"id": session_id, "capacity": 3}).status,
                         409)
        self.assertEqual(self.request("event.create", event_body(
            start="2025-01-01T08:00:00Z", end="2025-01-01T09:00:00Z")).status, 422)
        self.assertEqual(self.request("status", {}).status, 200)

    # -- the events socket

    def wait_for_subscription(self, subscriber):
        """Makes log lines (a refused request logs one) until the subscriber
        gets one: from then on it receives what is published."""
        dealer = self.dealer()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            dealer.send([b"SCHALT/0", "event.list", new_request_id(), b"{}"])
            dealer.reply()
            if subscriber.next(lambda f: f[0].startswith(b"log."), timeout=0.2):
                return
        self.fail("no log line arrived on %s" % self.scheduler.events)

    def test_event_created_is_published(self):
        subscriber = self.subscriber()
        self.wait_for_subscription(subscriber)
        request_id = new_request_id()
        body = event_body(title="Veröffentlicht %s" % request_id)
        reply = self.request("event.create", body, request_id)
        self.assertEqual(reply.status, 201, reply)
        frames = subscriber.next(lambda f: f[0] == b"event.created", timeout=5)
        self.assertIsNotNone(frames, "no event.created published")
        self.assertEqual(len(frames), 3, frames)
        topic, message_id, raw = frames
        # docs/protocol.md: the id of a published change is the request's
        self.assertEqual(message_id.decode(), request_id)
        published = json.loads(raw)
        self.assertEqual(harness.schema_errors("event/event.created", published), [])
        self.assertEqual(published, reply.body)
        self.assertEqual(published["event"]["title"], body["title"])
        # A replay changes nothing, so it publishes nothing either
        self.request("event.create", body, request_id)
        self.assertIsNone(subscriber.next(lambda f: f[0] == b"event.created", timeout=1))

    def test_changes_are_published(self):
        subscriber = self.subscriber()
        self.wait_for_subscription(subscriber)
        dealer = self.dealer()
        event = self.request("event.create", event_body(title="Live"), dealer=dealer)
        event_id = event.body["event"]["id"]
        session = {"event": event_id, "title": "S", "room": "A1", "capacity": 5,
                   "start": "2027-03-13T09:00:00Z", "end": "2027-03-13T10:00:00Z"}
        steps = [
            ("session.create", session, "session.created"),
            ("event.update", {"id": event_id, "place": "Neue Aula"}, "event.updated"),
            ("event.cancel", {"id": event_id, "reason": "Sturm"}, "event.cancelled"),
        ]
        for command, body, topic in steps:
            with self.subTest(command=command):
                request_id = new_request_id()
                reply = self.request(command, body, request_id, dealer)
                self.assertLess(reply.status, 300, reply)
                frames = subscriber.next(lambda f: f[0] == topic.encode(), timeout=5)
                self.assertIsNotNone(frames, "no %s published" % topic)
                self.assertEqual(frames[1].decode(), request_id)
                published = json.loads(frames[2])
                self.assertEqual(harness.schema_errors("event/" + topic, published), [])
                self.assertEqual(published, reply.body)

    def test_log_lines_are_published(self):
        subscriber = self.subscriber(b"log.")
        self.wait_for_subscription(subscriber)
        dealer = self.dealer()
        dealer.send([b"SCHALT/9", "event.list", "log-me", b"{}"])
        dealer.reply()
        frames = subscriber.next(lambda f: b"id=log-me " in f[2])
        self.assertIsNotNone(frames, "the refused request was not logged")
        self.assertEqual(len(frames), 3, frames)
        topic, sequence, raw = frames
        line = json.loads(raw)
        self.assertEqual(harness.schema_errors("event/log", line), [])
        self.assertEqual(topic.decode(), "log." + line["level"])
        self.assertEqual(line["service"], "scheduler")
        self.assertIn("code=bad_protocol", line["message"])
        # The message is the text alone: no level letter, daemon name or local date
        self.assertNotRegex(line["message"], r"^[EWNID]: |\(scheduler\)|^\d\d-\d\d-\d\d ")
        self.assertTrue(sequence)


class SizeLimitTest(harness.E2ETestCase):
    """A message over max_message_size disconnects its peer and no other."""

    SCHEDULER_ENV = {"SCHALT_SCHALTSTELLE_MAX_MESSAGE_SIZE": "4096"}

    def test_oversized_message_disconnects_only_its_peer(self):
        big, other = self.dealer(), self.dealer()
        # Both are connected and served; just under the limit is a request like any other
        self.assertEqual(self.request("status", {}, dealer=other).status, 200)
        fits = event_body(title="Passt", description="x" * 3000)
        self.assertLess(len(encode(fits)), 4096)
        reply = self.request("event.create", fits, dealer=big)
        self.assertEqual(reply.status, 201, reply)
        before = self.redis.snapshot()

        raw = encode(event_body(title="Zu groß", description="x" * 9900))
        self.assertGreaterEqual(len(raw), 10000)
        big.send([PROTOCOL, "event.create", new_request_id(), raw])
        # The other peer is served meanwhile, and afterwards; the big one hears nothing
        self.assertEqual(self.request("status", {}, dealer=other).status, 200)
        self.assertIsNone(big.recv(timeout=2), "a too-large request got an answer")
        self.assertEqual(self.request("status", {}, dealer=other).status, 200)
        self.assertEqual(self.redis.snapshot(), before)
        created = self.request("event.create", event_body(title="Daneben"), dealer=other)
        self.assertEqual(created.status, 201, created)


def rss_kib(pid):
    """The resident memory of process pid, in KiB."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


class ManyFramesTest(harness.E2ETestCase):
    """max_message_size holds for the whole message, not for each frame."""

    FRAME = 262144 - 1024  # just under the default limit, which holds for one frame
    FRAMES = 800           # 210 MB in all

    def test_many_frames_are_dropped_and_the_memory_comes_back(self):
        big, other = self.dealer(), self.dealer()
        self.assertEqual(self.request("status", {}, dealer=big).status, 200)
        self.assertEqual(self.request("status", {}, dealer=other).status, 200)
        pid = self.scheduler.proc.pid
        idle = rss_kib(pid)
        before = self.redis.snapshot()

        filler = b"x" * self.FRAME
        big.send([PROTOCOL, "event.create", new_request_id(), filler] +
                 [filler] * (self.FRAMES - 4))
        del filler
        self.assertIsNone(big.recv(timeout=3), "a message of 800 frames got an answer")
        self.assertTrue(harness.wait_until(
            lambda: "request: dropped unanswered frames=801" in self.scheduler.log_text(), 30.0),
            self.scheduler.log_text())
        self.assertEqual(self.request("status", {}, dealer=other).status, 200)
        self.assertEqual(self.redis.snapshot(), before)
        # The 210 MB are not kept: the daemon is back near its idle size (the
        # sanitizers hold freed memory in quarantine on purpose)
        if not harness.SANITIZED:
            settled = harness.wait_until(lambda: rss_kib(pid) < idle + 32 * 1024, 10.0)
            self.assertTrue(settled, "RSS %d KiB after the drop, %d KiB idle" %
                            (rss_kib(pid), idle))
        created = self.request("event.create", event_body(title="Danach"), dealer=other)
        self.assertEqual(created.status, 201, created)


if __name__ == "__main__":
    unittest.main()
