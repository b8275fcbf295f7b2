"""test_scheduler - the scheduler as a user meets it: through the schalt client.

Each class starts its own redis-server and schalt-scheduler on free loopback
ports (see harness.py). The tests type times in local time (Europe/Berlin),
read the CLI's exit code, stdout and stderr, and check the state in Redis
where a user would otherwise have to trust the reply. Every test uses events
of its own, so the tests of a class can share the daemon.

Exit codes of schalt: 0 done, 1 refused by the daemon, 2 usage error, 3 no answer.
"""

import json
import os
import re
import select
import subprocess
import time
import unittest

import harness
from harness import PREFIX

EVENT_ID = re.compile(r"^evt-[0-9a-hjkmnp-tv-z]{10}$")
SESSION_ID = re.compile(r"^ses-[0-9a-hjkmnp-tv-z]{10}-[0-9a-hjkmnp-tv-z]{10}$")


class EventTest(harness.E2ETestCase):
    """Events: create, get, list, update, cancel."""

    def test_create_stores_start_and_end_in_utc(self):
        # Winter: Berlin is UTC+1; summer: UTC+2
        winter = self.create_event("Tag der Bildung 2027", "2027-03-13T09:00", "2027-03-13T17:00")
        self.assertRegex(winter["id"], EVENT_ID)
        self.assertEqual(winter["start"], "2027-03-13T08:00:00Z")
        self.assertEqual(winter["end"], "2027-03-13T16:00:00Z")
        self.assertEqual(winter["status"], "scheduled")
        self.assertEqual(winter["kind"], "day-of-education")
        self.assertEqual(winter["title"], "Tag der Bildung 2027")
        summer = self.create_event("Sommerfest", "2027-07-03T09:00", "2027-07-03T13:30", "other")
        self.assertEqual(summer["start"], "2027-07-03T07:00:00Z")
        self.assertEqual(summer["end"], "2027-07-03T11:30:00Z")
        self.assertNotEqual(winter["id"], summer["id"])
        # What was acknowledged is what Redis holds
        stored = self.redis.hash(PREFIX + "event:" + winter["id"])
        self.assertEqual(stored["start"], "2027-03-13T08:00:00Z")
        self.assertEqual(stored["title"], "Tag der Bildung 2027")
        self.assertIn(summer["id"], self.redis.event_ids())
        # and what get shows, in local time for people
        code, out, err = self.schalt("event", "get", winter["id"])
        self.assertEqual(code, 0, err)
        self.assertIn("Event %s (scheduled)" % winter["id"], out)
        self.assertRegex(out, r"Start:\s+2027-03-13 09:00\n")
        self.assertRegex(out, r"End:\s+2027-03-13 17:00\n")

    def test_get_list_update_cancel(self):
        event = self.create_event("Arbeitskreis Übergang Kita", "2027-04-20T18:00",
                                  "2027-04-20T20:00", "meeting", "Familienzentrum Nord")
        other = self.create_event("Beratungstag", "2027-04-22T09:00", "2027-04-22T12:00",
                                  "counselling")
        code, got, err = self.schalt_json("event", "get", event["id"])
        self.assertEqual(code, 0, err)
        self.assertEqual(got, event)

        # list: both, in start order; --from/--to select by time
        code, listed, err = self.schalt_json("event", "list")
        self.assertEqual(code, 0, err)
        ids = [item["id"] for item in listed]
        self.assertLess(ids.index(event["id"]), ids.index(other["id"]))
        code, listed, err = self.schalt_json("event", "list", "--from", "2027-04-21T00:00",
                                             "--to", "2027-04-23T00:00")
        self.assertEqual(code, 0, err)
        ids = [item["id"] for item in listed]
        self.assertIn(other["id"], ids)
        self.assertNotIn(event["id"], ids)

        # update some fields; the others stay
        code, updated, err = self.schalt_json("event", "update", event["id"], "--title",
                                              "Arbeitskreis Übergang Kita–Grundschule", "--start",
                                              "2027-04-20T17:30", "--description",
                                              "Zweite Sitzung\nmit Gästen")
        self.assertEqual(code, 0, err)
        self.assertEqual(updated["title"], "Arbeitskreis Übergang Kita–Grundschule")
        self.assertEqual(updated["start"], "2027-04-20T15:30:00Z")
        self.assertEqual(updated["end"], event["end"])
        self.assertEqual(updated["place"], "Familienzentrum Nord")
        self.assertEqual(updated["description"], "Zweite Sitzung\nmit Gästen")
        code, got, err = self.schalt_json("event", "get", event["id"])
        self.assertEqual(got, updated)
        # Moving the other before it changes the order of the list
        code, moved, err = self.schalt_json("event", "update", other["id"], "--start",
                                            "2027-04-19T09:00", "--end", "2027-04-19T12:00")
        self.assertEqual((code, moved["start"]), (0, "2027-04-19T07:00:00Z"), err)
        code, listed, err = self.schalt_json("event", "list")
        ids = [item["id"] for item in listed]
        self.assertLess(ids.index(other["id"]), ids.index(event["id"]))

        # cancel: gone from the list, still there with --all
        code, cancelled, err = self.schalt_json("event", "cancel", event["id"], "--reason",
                                                "Raum nicht verfügbar")
        self.assertEqual(code, 0, err)
        self.assertEqual(cancelled["status"], "cancelled")
        self.assertEqual(cancelled["reason"], "Raum nicht verfügbar")
        code, listed, err = self.schalt_json("event", "list")
        self.assertNotIn(event["id"], [item["id"] for item in listed])
        code, listed, err = self.schalt_json("event", "list", "--all")
        found = [item for item in listed if item["id"] == event["id"]]
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["status"], "cancelled")
        self.assertEqual(self.redis.hash(PREFIX + "event:" + event["id"])["status"], "cancelled")

    def test_list_table_is_readable(self):
        title = "Übergänge gestalten – Schüler:innen, Eltern & Lehrkräfte"
        event = self.create_event(title, "2027-03-13T09:00", "2027-03-13T15:00")
        code, out, err = self.schalt("event", "list", "--from", "2027-03-13T00:00", "--to",
                                     "2027-03-14T00:00")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        header = lines[0]
        self.assertRegex(header, r"^ID\s+KIND\s+START\s+END\s+STATUS\s+TITLE\s+PLACE$")
        rows = [line for line in lines if line.startswith(event["id"])]
        self.assertEqual(len(rows), 1, out)
        row = rows[0]
        self.assertIn(title, row)
        self.assertIn("2027-03-13 09:00", row)
        self.assertIn("2027-03-13 15:00", row)
        # Columns line up on the screen: counted in characters, not UTF-8 bytes
        self.assertEqual(row.index(title), header.index("TITLE"), out)
        self.assertEqual(row.index("Rathaus"), header.index("PLACE"), out)

    def test_status_help_and_version(self):
        code, out, err = self.schalt("status")
        self.assertRegex(out.splitlines()[0], r"^SERVICE\s+STATE\s+UPTIME\s+REDIS")
        rows = harness.status_rows(out)
        self.assertRegex(rows["rows"]["scheduler"],
                         r"^scheduler\s+running\s+\d+d \d\d:\d\d:\d\d\s+up \(127\.0\.0\.1:%d\)"
                         % self.redis.port)
        # 0 only if every daemon the client knows answered (only this one runs here)
        self.assertEqual(code, 0 if not rows.get("no answer") else 3, out + err)

        code, out, err = self.schalt("--help")
        self.assertEqual(code, 0, err)
        self.assertIn("usage: schalt", out)
        self.assertIn("event create", out)
        self.assertIn("session list", out)
        code, out, err = self.schalt("event", "create", "--help")
        self.assertEqual(code, 0, err)
        for option in ("--kind", "--title", "--start", "--end", "--place"):
            self.assertIn(option, out)

    def test_update_of_cancelled_event_is_refused(self):
        event = self.create_event("Abgesagter Termin", "2027-05-05T10:00", "2027-05-05T12:00")
        code, _, err = self.schalt("event", "cancel", event["id"])
        self.assertEqual(code, 0, err)
        before = self.redis.snapshot(with_requests=False)
        self.assertRefused(self.schalt("event", "update", event["id"], "--title", "Doch"), 409,
                           "event_cancelled", "/id")
        self.assertRefused(self.schalt("event", "cancel", event["id"]), 409, "already_cancelled",
                           "/id")
        self.assertEqual(self.redis.snapshot(with_requests=False), before)
        code, got, _ = self.schalt_json("event", "get", event["id"])
        self.assertEqual((got["title"], got["status"]), ("Abgesagter Termin", "cancelled"))


class SessionTest(harness.E2ETestCase):
    """Sessions of an event: create with topics, list, get, update, cancel."""

    def setUp(self):
        # A day of its own for each test, 09:00 to 17:00 local time
        self.event = self.create_event("Tag der Bildung (%s)" % self._testMethodName,
                                       "2027-03-13T09:00", "2027-03-13T17:00")

    def sessions(self, *extra):
        code, sessions, err = self.schalt_json("session", "list", "--event", self.event["id"],
                                               *extra)
        self.assertEqual(code, 0, err)
        return sessions

    def test_create_list_get_update_cancel(self):
        late = self.create_session(self.event["id"], "Ausbildung oder Studium?", "B201",
                                   "2027-03-13T14:00", "2027-03-13T15:30", 40, ["schule-beruf"])
        early = self.create_session(self.event["id"], "Von der Kita in die Schule", "A101",
                                    "2027-03-13T10:00", "2027-03-13T11:00", 25,
                                    ["familie-kita", "kita-grundschule"])
        middle = self.create_session(self.event["id"], "Älter werden im Quartier", "A102",
                                     "2027-03-13T12:00", "2027-03-13T13:00", 15)
        self.assertRegex(early["id"], SESSION_ID)
        self.assertEqual(early["event"], self.event["id"])
        self.assertEqual(early["id"][4:14], self.event["id"][4:])  # it carries its event
        self.assertEqual(early["start"], "2027-03-13T09:00:00Z")
        self.assertEqual(early["end"], "2027-03-13T10:00:00Z")
        self.assertEqual(early["capacity"], 25)
        self.assertEqual(early["topics"], ["familie-kita", "kita-grundschule"])
        self.assertEqual(middle["topics"], [])

        # Listed in start order, not in the order of creation
        self.assertEqual([s["id"] for s in self.sessions()],
                         [early["id"], middle["id"], late["id"]])
        code, got, err = self.schalt_json("session", "get", early["id"])
        self.assertEqual(code, 0, err)
        self.assertEqual(got, early)

        # The table for people: local times and the topics
        code, out, err = self.schalt("session", "list", "--event", self.event["id"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out.splitlines()[0], r"^ID\s+START\s+END\s+ROOM\s+CAPACITY\s+STATUS\s+TITLE")
        row = [line for line in out.splitlines() if line.startswith(early["id"])][0]
        self.assertIn("2027-03-13 10:00", row)
        self.assertIn("familie-kita, kita-grundschule", row)

        # Update: move the late one to the morning, more seats, other topics
        code, moved, err = self.schalt_json("session", "update", late["id"], "--start",
                                            "2027-03-13T09:00", "--end", "2027-03-13T09:45",
                                            "--capacity", "60", "--topic", "grundschule-sek1")
        self.assertEqual(code, 0, err)
        self.assertEqual((moved["start"], moved["end"]), ("2027-03-13T08:00:00Z",
                                                          "2027-03-13T08:45:00Z"))
        self.assertEqual(moved["capacity"], 60)
        self.assertEqual(moved["topics"], ["grundschule-sek1"])
        self.assertEqual(moved["title"], late["title"])
        self.assertEqual([s["id"] for s in self.sessions()],
                         [late["id"], early["id"], middle["id"]])

        # Cancel one: not listed, except with --all
        code, cancelled, err = self.schalt_json("session", "cancel", middle["id"], "--reason",
                                                "Referentin krank")
        self.assertEqual(code, 0, err)
        self.assertEqual((cancelled["status"], cancelled["reason"]), ("cancelled",
                                                                      "Referentin krank"))
        self.assertEqual([s["id"] for s in self.sessions()], [late["id"], early["id"]])
        self.assertEqual([s["status"] for s in self.sessions("--all")],
                         ["scheduled", "scheduled", "cancelled"])
        self.assertEqual(self.redis.hash(PREFIX + "session:" + middle["id"])["status"],
                         "cancelled")
        # A cancelled session frees its room
        self.create_session(self.event["id"], "Ersatz", "a102", "2027-03-13T12:00",
                            "2027-03-13T13:00")

    def test_event_cancel_cascades_to_sessions(self):
        first = self.create_session(self.event["id"], "Erste", "A101", "2027-03-13T10:00",
                                    "2027-03-13T11:00")
        second = self.create_session(self.event["id"], "Zweite", "A102", "2027-03-13T10:00",
                                     "2027-03-13T11:00")
        code, event, err = self.schalt_json("event", "cancel", self.event["id"], "--reason",
                                            "Unwetter")
        self.assertEqual(code, 0, err)
        self.assertEqual(event["status"], "cancelled")

        self.assertEqual(self.sessions(), [])
        code, out, err = self.schalt("session", "list", "--event", self.event["id"])
        self.assertEqual((code, out.strip()), (0, "No sessions in event %s." % self.event["id"]))
        listed = self.sessions("--all")
        self.assertEqual(sorted(s["id"] for s in listed), sorted([first["id"], second["id"]]))
        for session in listed:
            self.assertEqual((session["status"], session.get("reason")), ("cancelled", "Unwetter"))
        code, got, err = self.schalt_json("session", "get", first["id"])
        self.assertEqual(got["status"], "cancelled")
        self.assertEqual(self.redis.hash(PREFIX + "session:" + second["id"])["status"],
                         "cancelled")

        # A cancelled event takes no new sessions, and its sessions no changes
        before = self.redis.snapshot(with_requests=False)
        self.assertRefused(self.schalt("session", "create", "--event", self.event["id"], "--title",
                                       "Nachzügler", "--room", "C1", "--start", "2027-03-13T12:00",
                                       "--end", "2027-03-13T13:00", "--capacity", "5"),
                           409, "event_cancelled", "/event")
        self.assertRefused(self.schalt("session", "update", first["id"], "--capacity", "99"), 409,
                           "session_cancelled", "/id")
        self.assertEqual(self.redis.snapshot(with_requests=False), before)


class RefusalTest(harness.E2ETestCase):
    """What the scheduler refuses: exit code 1, the status, code and field on
    stderr, and nothing changed in the stored events and sessions."""

    def setUp(self):
        self.event = self.create_event("Tag der Bildung (%s)" % self._testMethodName,
                                       "2027-03-13T09:00", "2027-03-13T17:00")

    def assertRefusedUnchanged(self, args, status, code, field):
        """Runs schalt args, expects the refusal, and checks that no event or
        session changed (remembered replies of request ids aside)."""
        before = self.redis.snapshot(with_requests=False)
        self.assertRefused(self.schalt(*args), status, code, field)
        self.assertEqual(self.redis.snapshot(with_requests=False), before, " ".join(args))

    def session_args(self, title="Sitzung", room="A101", start="2027-03-13T10:00",
                     end="2027-03-13T11:00", capacity="25", event=None):
        return ["session", "create", "--event", event or self.event["id"], "--title", title,
                "--room", room, "--start", start, "--end", end, "--capacity", capacity]

    def event_args(self, title="Termin", start="2027-06-01T10:00", end="2027-06-01T12:00",
                   kind="meeting"):
        return ["event", "create", "--kind", kind, "--title", title, "--start", start, "--end",
                end, "--place", "Stadtbibliothek"]

    def test_end_before_start(self):
        self.assertRefusedUnchanged(self.event_args(start="2027-06-01T12:00",
                                                    end="2027-06-01T10:00"),
                                    422, "end_before_start", "/end")
        self.assertRefusedUnchanged(self.event_args(start="2027-06-01T12:00",
                                                    end="2027-06-01T12:00"),
                                    422, "end_before_start", "/end")
        self.assertRefusedUnchanged(self.session_args(start="2027-03-13T11:00",
                                                      end="2027-03-13T10:00"),
                                    422, "end_before_start", "/end")
        # An update that would put the end before the (stored) start
        self.assertRefusedUnchanged(["event", "update", self.event["id"], "--end",
                                     "2027-03-13T08:00"], 422, "end_before_start", "/end")

    def test_session_outside_its_event(self):
        self.assertRefusedUnchanged(self.session_args(start="2027-03-13T08:00",
                                                      end="2027-03-13T10:00"),
                                    422, "outside_event", "/start")
        self.assertRefusedUnchanged(self.session_args(start="2027-03-13T16:00",
                                                      end="2027-03-13T18:00"),
                                    422, "outside_event", "/end")
        self.assertRefusedUnchanged(self.session_args(start="2027-03-14T10:00",
                                                      end="2027-03-14T11:00"),
                                    422, "outside_event", None)
        # An event may not shrink away from its sessions
        session = self.create_session(self.event["id"], "Spät", "A1", "2027-03-13T15:00",
                                      "2027-03-13T16:30")
        self.assertRefusedUnchanged(["event", "update", self.event["id"], "--end",
                                     "2027-03-13T16:00"], 409, "sessions_outside", "/end")
        self.assertRefusedUnchanged(["session", "update", session["id"], "--end",
                                     "2027-03-13T17:30"], 422, "outside_event", "/end")

    def test_room_taken(self):
        taken = self.create_session(self.event["id"], "Belegt", "A101", "2027-03-13T10:00",
                                    "2027-03-13T11:00")
        before = self.redis.snapshot(with_requests=False)
        code, out, err = self.schalt(*self.session_args(title="Überlappend",
                                                        start="2027-03-13T10:30",
                                                        end="2027-03-13T11:30"))
        self.assertRefused((code, out, err), 409, "room_taken", "/room")
        self.assertIn(taken["id"], err)
        # The times in the message are local, as people typed them
        self.assertIn("2027-03-13 10:00", err)
        self.assertNotIn("08:00:00Z", err)
        # The same room in other case or with spaces is the same room
        self.assertRefusedUnchanged(self.session_args(room="a101", start="2027-03-13T10:15",
                                                      end="2027-03-13T10:45"),
                                    409, "room_taken", "/room")
        self.assertRefusedUnchanged(self.session_args(room=" A101 ", start="2027-03-13T09:00",
                                                      end="2027-03-13T17:00"),
                                    409, "room_taken", "/room")
        self.assertEqual(self.redis.snapshot(with_requests=False), before)
        # Touching times are no overlap; another room is free
        after = self.create_session(self.event["id"], "Danach", "A101", "2027-03-13T11:00",
                                    "2027-03-13T12:00")
        self.create_session(self.event["id"], "Davor", "a101", "2027-03-13T09:00",
                            "2027-03-13T10:00")
        self.create_session(self.event["id"], "Nebenan", "A102", "2027-03-13T10:30",
                            "2027-03-13T11:30")
        code, listed, err = self.schalt_json("session", "list", "--event", self.event["id"])
        self.assertEqual([s["title"] for s in listed], ["Davor", "Belegt", "Nebenan", "Danach"])
        # Moving a session into a taken slot is refused too
        self.assertRefusedUnchanged(["session", "update", after["id"], "--start",
                                     "2027-03-13T10:59"], 409, "room_taken", "/room")
        self.assertRefusedUnchanged(["session", "update", after["id"], "--room", "a102"], 409,
                                    "room_taken", "/room")

    def test_capacity_must_be_positive(self):
        self.assertRefusedUnchanged(self.session_args(capacity="0"), 400, "invalid", "/capacity")
        self.assertRefusedUnchanged(self.session_args(capacity="-3"), 400, "invalid", "/capacity")
        session = self.create_session(self.event["id"], "Gut", "C3", "2027-03-13T10:00",
                                      "2027-03-13T11:00")
        self.assertRefusedUnchanged(["session", "update", session["id"], "--capacity", "0"], 400,
                                    "invalid", "/capacity")

    def test_unknown_ids(self):
        unknown = "evt-0000000000"
        self.assertRefusedUnchanged(["event", "get", unknown], 404, "not_found", "/id")
        self.assertRefusedUnchanged(["event", "update", unknown, "--title", "x"], 404,
                                    "not_found", "/id")
        self.assertRefusedUnchanged(["event", "cancel", unknown], 404, "not_found", "/id")
        self.assertRefusedUnchanged(self.session_args(event=unknown), 404, "not_found", "/event")
        self.assertRefusedUnchanged(["session", "list", "--event", unknown], 404, "not_found",
                                    "/event")
        self.assertRefusedUnchanged(["session", "get", "ses-0000000000-0000000000"], 404, "not_found", "/id")
        self.assertRefusedUnchanged(["session", "cancel", "ses-0000000000-0000000000"], 404, "not_found",
                                    "/id")
        # Not even the shape of an id
        self.assertRefusedUnchanged(["event", "get", "42"], 400, "invalid", "/id")

    def test_start_in_the_past(self):
        self.assertRefusedUnchanged(self.event_args(start="2025-03-13T09:00",
                                                    end="2025-03-13T17:00"),
                                    422, "in_past", "/start")
        self.assertRefusedUnchanged(["event", "update", self.event["id"], "--start",
                                     "2025-03-13T09:00"], 422, "in_past", "/start")

    def test_title_with_control_characters(self):
        for title in ("Zeile\r\nZwei", "Zeile\nZwei", "Zeile\rZwei", "Tab\tTab", "Glocke\x07",
                      "Escape\x1b[31m", "Löschen\x7f"):
            with self.subTest(title=title):
                self.assertRefusedUnchanged(self.event_args(title=title), 400, "invalid",
                                            "/title")
                self.assertRefusedUnchanged(self.session_args(title=title), 400, "invalid",
                                            "/title")
                self.assertRefusedUnchanged(["event", "update", self.event["id"], "--title",
                                             title], 400, "invalid", "/title")
        self.assertRefusedUnchanged(self.event_args(title="   "), 400, "invalid", "/title")

    def test_unknown_kind(self):
        self.assertRefusedUnchanged(self.event_args(kind="party"), 400, "invalid", "/kind")
        self.assertRefusedUnchanged(self.event_args(kind="Meeting"), 400, "invalid", "/kind")

    def test_unknown_topic(self):
        args = self.session_args() + ["--topic", "familie-kita", "--topic", "kita"]
        self.assertRefusedUnchanged(args, 400, "invalid", "/topics/1")
        args = self.session_args() + ["--topic", "familie-kita", "--topic", "familie-kita"]
        self.assertRefusedUnchanged(args, 400, "invalid", "/topics")


class UsageTest(harness.E2ETestCase):
    """Mistakes on the command line: exit code 2, a message, nothing sent."""

    def assertUsage(self, args, expected):
        before = self.redis.snapshot()
        code, out, err = self.schalt(*args)
        self.assertEqual(code, 2, "%s: stdout=%r stderr=%r" % (args, out, err))
        self.assertIn(expected, err)
        self.assertEqual(self.redis.snapshot(), before)

    def test_usage_errors(self):
        create = ["event", "create", "--kind", "other", "--title", "Termin", "--start",
                  "2027-06-01T10:00", "--end", "2027-06-01T12:00", "--place", "Rathaus"]
        without_title = create[:4] + create[6:]
        self.assertUsage(without_title, "--title is required")
        for bad in ("13.03.2027 09:00", "2027-03-13", "2027-02-30T09:00", "2027-03-13T25:00",
                    "morgen"):
            with self.subTest(time=bad):
                args = list(create)
                args[args.index("--start") + 1] = bad
                self.assertUsage(args, "--start '%s' is not a date and time: write it as "
                                 "YYYY-MM-DDTHH:MM" % bad)
        # A well-formed time the zone skips (the DST gap) is told as such
        args = list(create)
        args[args.index("--start") + 1] = "2027-03-28T02:30"
        self.assertUsage(args, "--start '2027-03-28T02:30' does not exist in Europe/Berlin")
        self.assertUsage(create + ["--colour", "rot"], "unknown option --colour")
        self.assertUsage(create + ["--description"], "--description needs a value")
        self.assertUsage(["event", "frobnicate"], "no command 'frobnicate'; its commands are")
        self.assertUsage(["event"], "schalt event create")
        self.assertUsage(["status", "extra"], "takes no arguments")
        self.assertUsage(["frobnicate"], "unknown command")
        self.assertUsage(["--verbose", "event", "list"], "unknown option --verbose")
        self.assertUsage(["event", "get"], "ID is missing")
        self.assertUsage(["session", "create", "--event", "evt-0000000000", "--title", "x",
                          "--room", "A", "--start", "2027-06-01T10:00", "--end",
                          "2027-06-01T11:00", "--capacity", "zehn"], "not a whole number")
        self.assertUsage([], "usage: schalt")


class LogsTest(harness.E2ETestCase):
    """schalt logs -f: the daemons' log lines, live, as an admin follows them."""

    def test_a_refusal_shows_up_in_logs_follow(self):
        env = self.scheduler.env()
        follow = subprocess.Popen([harness.BIN + "/schalt", "logs", "-f", "--service", "scheduler"],
                                  env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.addCleanup(harness.stop_process, follow)
        # It says that it follows (on stderr, so that the lines can be piped on)
        said = harness.read_stderr_lines(follow, lambda line: "following" in line, 10)
        self.assertIn("following the log lines of scheduler live; Ctrl-C to stop",
                      said[-1] if said else "", said)
        # Until the subscription is in place a line may be missed: ask until one shows
        seen = []

        def refusal_shown():
            self.schalt("event", "get", "evt-0000000000")
            ready = select.select([follow.stdout], [], [], 0.5)[0]
            if ready:
                seen.append(os.read(follow.stdout.fileno(), 65536).decode())
            return "request: refused command=event.get" in "".join(seen)

        self.assertTrue(harness.wait_until(refusal_shown, 15.0, interval=0.1), seen)
        line = next(l for l in "".join(seen).splitlines() if "command=event.get" in l)
        # local time, the service, the level, the message
        self.assertRegex(line, r"^\d{4}-\d\d-\d\d \d\d:\d\d scheduler\s+info\s+request: refused")


class NoDaemonTest(harness.E2ETestCase):
    """The client when the daemon is not running, and its retries."""

    START_SCHEDULER = False

    def setUp(self):
        self.scheduler.stop()
        self.addCleanup(self.scheduler.stop)

    def test_no_answer_exits_3(self):
        code, out, err = self.schalt("event", "list", SCHALT_CLI_TIMEOUT=300,
                                     SCHALT_CLI_RETRIES=2)
        self.assertEqual(code, 3, err)
        self.assertIn("no answer", err)
        self.assertEqual(out, "")
        code, out, err = self.schalt("status", SCHALT_CLI_TIMEOUT=300)
        self.assertEqual(code, 3, err)
        self.assertRegex(out, r"scheduler\s+no answer")

    def test_retry_after_daemon_starts_does_not_duplicate(self):
        title = "Nachgereicht %d" % time.time_ns()
        env = self.scheduler.env(SCHALT_CLI_TIMEOUT=1000, SCHALT_CLI_RETRIES=30)
        client = subprocess.Popen(
            [harness.BIN + "/schalt", "--json", "event", "create", "--kind", "other", "--title",
             title, "--start", "2027-09-01T10:00", "--end", "2027-09-01T11:00", "--place", "Aula"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(harness.stop_process, client)
        # Two timeouts: the request has been sent three times (same id) by now
        lines = harness.read_stderr_lines(client, lambda line: "(3 of 30)" in line, 20)
        self.assertIn("(3 of 30)", lines[-1] if lines else "", lines)
        self.scheduler.start()
        out, err = client.communicate(timeout=60)
        self.assertEqual(client.returncode, 0, err)
        event = json.loads(out)
        self.assertEqual(event["title"], title)
        # Exactly one event with that title, and it is the one acknowledged
        matching = [event_id for event_id, stored in self.redis.stored_events().items()
                    if stored["title"] == title]
        self.assertEqual(matching, [event["id"]])
        code, listed, err = self.schalt_json("event", "list", "--from", "2027-09-01T00:00", "--to",
                                             "2027-09-02T00:00")
        self.assertEqual([item["id"] for item in listed if item["title"] == title], [event["id"]])
        # SIGTERM stops the daemon cleanly
        self.assertEqual(self.scheduler.stop(), 0, self.scheduler.log_text())


if __name__ == "__main__":
    unittest.main()
