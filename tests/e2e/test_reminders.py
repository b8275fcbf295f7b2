"""test_reminders - the reminder timeline: the stories users of other systems
report as bugs, each told here as it must go. A reminder goes to everyone
confirmed when it falls due and registered by then; never to the waitlisted,
the cancelled, or for a session that was cancelled, moved (then at the new
time) or has begun; after an outage only the latest overdue one; a person
with several sessions on one day gets one reminder listing them. The due
times across both changes of daylight-saving time in 2027 equal what
Python's zoneinfo computes.

Real daemons, a real Redis and a real SMTP server (harness.py). Time is moved
with clock.set on the scheduler and the registry (test configurations),
never by waiting.
"""

import datetime
import json
import os
import signal
import time
import zoneinfo

import harness
from test_lifecycle import LifecycleCase
from test_registration import MAIL_TIMEOUT

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = datetime.timezone.utc


def local(text):
    """A wall-clock time in Berlin ("2027-03-13T10:00") as an aware datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZONE)


def utc_text(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReminderCase(LifecycleCase):
    SCHEDULER_ENV = {"SCHALT_SCHALTSTELLE_TEST_CLOCK": "settable"}

    def setUp(self):
        super().setUp()
        self.set_clock(self.scheduler, datetime.datetime.now(UTC))

    def move_clocks(self, moment):
        """Both daemons' clocks to moment (aware datetime, or local text)."""
        if isinstance(moment, str):
            moment = local(moment)
        self.set_clock(self.scheduler, moment)
        self.set_clock(self.registry, moment)

    def event(self, title, start="2027-03-13T09:00", end="2027-03-21T17:00", reminders=None,
              kind="day-of-education"):
        args = ["event", "create", "--kind", kind, "--title", title, "--start", start, "--end",
                end, "--place", "Rathaus Pulheim"]
        if reminders:
            args += ["--reminders", reminders]
        code, event, err = self.schalt_json(*args)
        self.assertEqual(code, 0, err)
        return event

    def session(self, event, title, start="2027-03-13T10:00", end="2027-03-13T11:30", capacity=25):
        harness.E2ETestCase._rooms += 1
        session = self.create_session(event["id"], title, "R %d" % harness.E2ETestCase._rooms,
                                      start, end, capacity)
        self.wait_for_facts(session["id"], lambda listed: True)
        return session

    def planned(self, session_id, count=None):
        """The session's planned reminders [(offset, due as UTC text)], after
        waiting (bounded) until the timeline worker planned count of them."""
        found = []

        def check():
            code, listed, err = self.schalt_json("reminders", "--session", session_id)
            self.assertEqual(code, 0, err)
            found[:] = [(r["offset"], r["due"]) for r in listed]
            return count is None or len(found) == count
        harness.wait_until(check, 10, interval=0.05)
        return found

    def reminders_to(self, address):
        """The reminder e-mails address got, once everything is sent."""
        self.settle()
        return [m.parse() for m in self.mail.received()
                if m.rcpt_tos == [address] and "Erinnerung" in str(m.parse()["Subject"])]

    def wait_reminders(self, address, count):
        """Waits (bounded) until address has count reminders; returns them."""
        harness.wait_until(lambda: len([m for m in self.mail.received()
                                        if m.rcpt_tos == [address]
                                        and "Erinnerung" in str(m.parse()["Subject"])]) >= count,
                           MAIL_TIMEOUT, interval=0.1)
        return self.reminders_to(address)


class TimelineTest(ReminderCase):

    def test_reminders_go_to_those_confirmed_and_registered_by_the_due_time(self):
        event = self.event("Tag der Bildung", reminders="7d 1d")
        session = self.session(event, "Elternabend Übergang", capacity=1)
        self.assertEqual(self.planned(session["id"], 2),
                         [("7d", "2027-03-06T09:00:00Z"), ("1d", "2027-03-12T09:00:00Z")])
        anna = self.register_json(session["id"], "Anna Acker", "anna@rem.example")
        self.register_json(session["id"], "Bernd Bach", "bernd@rem.example")  # waitlisted
        # schalt status shows the timeline: how many, and the next due (local time)
        self.assertTrue(harness.wait_until(
            lambda: "reminders planned: " in self.schalt("status")[1], 5, interval=0.1))
        self.assertRegex(self.schalt("status")[1],
                         r"reminders planned: \d+, the next due \d{4}-\d\d-\d\d \d\d:\d\d")

        # Seven days before: Anna has a seat and gets it; Bernd waits and does not
        self.move_clocks("2027-03-06T10:00:05")
        reminder = self.wait_reminders("anna@rem.example", 1)
        self.assertEqual(len(reminder), 1)
        self.assertCleanMail(reminder[0])
        self.assertEqual(str(reminder[0]["Subject"]),
                         "Erinnerung: Elternabend Übergang am Samstag, 13. März 2027 um 10:00 Uhr")
        text = reminder[0].text()
        self.assertIn("Raum:          R ", text)
        self.assertEqual(list(self.links(reminder[0])), ["cancel"])
        self.assertEqual(self.reminders_to("bernd@rem.example"), [])
        self.assertEqual(self.planned(session["id"]), [("1d", "2027-03-12T09:00:00Z")])

        # Clara registers after the 7d time: waitlisted behind Bernd. Anna
        # cancels: Bernd is promoted, and gets the next reminder
        self.register_json(session["id"], "Clara Cramer", "clara@rem.example")
        self.assertEqual(self.cancel(anna["id"])[0], 0)
        self.mail_of("bernd@rem.example", "Platz frei geworden", 2)
        self.move_clocks("2027-03-12T10:00:05")
        self.assertEqual(len(self.wait_reminders("bernd@rem.example", 1)), 1)
        self.assertEqual(len(self.reminders_to("anna@rem.example")), 1)  # only the first
        self.assertEqual(self.reminders_to("clara@rem.example"), [])  # still waiting
        self.assertEqual(self.planned(session["id"]), [])

        # Dora registers after the last reminder's time: there is none left for her
        self.set_clock(self.registry, local("2027-03-12T10:30"))
        dora = self.register_json(session["id"], "Dora Dahl", "dora@rem.example")
        self.assertEqual(dora["status"], "waitlisted")
        self.assertEqual(self.reminders_to("dora@rem.example"), [])

    def test_a_moved_session_is_reminded_at_the_new_time_only(self):
        event = self.event("Tag der Bildung", reminders="1d")
        session = self.session(event, "Berufsorientierung")
        self.register_json(session["id"], "Emil Ernst", "emil@move.example")
        self.assertEqual(self.planned(session["id"], 1), [("1d", "2027-03-12T09:00:00Z")])
        code, out, err = self.schalt("session", "update", session["id"], "--start",
                                     "2027-03-20T14:00", "--end", "2027-03-20T15:00")
        self.assertEqual(code, 0, err)
        moved = self.planned(session["id"], 1)
        self.assertEqual(moved, [("1d", "2027-03-19T13:00:00Z")])
        self.mail_of("emil@move.example", "Geändert", 2)

        # The old time passes: nothing; the new one: the reminder, with the new time
        self.move_clocks("2027-03-12T10:00:05")
        self.assertEqual(self.reminders_to("emil@move.example"), [])
        self.move_clocks("2027-03-19T14:00:05")
        reminders = self.wait_reminders("emil@move.example", 1)
        self.assertEqual(len(reminders), 1)
        self.assertIn("20. März 2027 um 14:00 Uhr", str(reminders[0]["Subject"]))

    def test_a_cancelled_session_is_never_reminded(self):
        event = self.event("Tag der Bildung", reminders="7d 1d")
        session = self.session(event, "Abgesagt")
        self.register_json(session["id"], "Fritz Fink", "fritz@off.example")
        self.assertEqual(len(self.planned(session["id"], 2)), 2)
        self.assertEqual(self.schalt("session", "cancel", session["id"])[0], 0)
        self.assertEqual(self.planned(session["id"], 0), [])
        self.move_clocks("2027-03-12T10:00:05")
        self.assertEqual(self.reminders_to("fritz@off.example"), [])
        self.assertEqual(self.count_to("fritz@off.example"), 2)  # confirmed, cancelled

    def test_no_reminder_once_the_session_has_begun(self):
        event = self.event("Tag der Bildung", reminders="1d 2h")
        session = self.session(event, "Schon begonnen")
        self.register_json(session["id"], "Gerda Gans", "gerda@began.example")
        self.assertEqual(len(self.planned(session["id"], 2)), 2)
        # The clock jumps past the start (both reminders overdue): none is sent
        self.move_clocks("2027-03-13T10:05")
        harness.wait_until(lambda: self.planned(session["id"]) == [], 10, interval=0.1)
        self.assertEqual(self.planned(session["id"]), [])
        self.assertEqual(self.reminders_to("gerda@began.example"), [])

    def test_several_sessions_on_one_day_make_one_reminder(self):
        event = self.event("Tag der Bildung", reminders="1d")
        first = self.session(event, "Vormittag", "2027-03-13T10:00", "2027-03-13T11:00")
        second = self.session(event, "Nachmittag", "2027-03-13T14:00", "2027-03-13T15:00")
        other_day = self.session(event, "Sonntag", "2027-03-14T10:00", "2027-03-14T11:00")
        code, out, err = self.schalt("register", "--session", first["id"], "--session",
                                     second["id"], "--session", other_day["id"], "--name",
                                     "Hanna Horn", "--email", "hanna@day.example")
        self.assertEqual(code, 0, err)
        self.planned(second["id"], 1)
        self.move_clocks("2027-03-12T14:00:05")  # both dues of the 13th have passed
        reminders = self.wait_reminders("hanna@day.example", 1)
        self.assertEqual(len(reminders), 1)
        text = reminders[0].text()
        self.assertIn("Vormittag", text)
        self.assertIn("Nachmittag", text)
        self.assertNotIn("Sonntag", text)
        self.assertEqual(sorted(self.links(reminders[0])), ["cancel"])  # one per session...
        self.assertEqual(text.count("/registration/cancel?token="), 2)  # ...two of them
        self.move_clocks("2027-03-13T10:00:05")
        self.assertEqual(len(self.wait_reminders("hanna@day.example", 2)), 2)
        self.assertIn("Sonntag", str(self.reminders_to("hanna@day.example")[1]["Subject"]))

    def test_daylight_saving_changes(self):
        # 28 March and 31 October 2027: the days on which Berlin's clocks change
        spring = self.event("Frühling", "2027-03-28T09:00", "2027-03-28T17:00", "1d 2h")
        autumn = self.event("Herbst", "2027-10-31T09:00", "2027-10-31T17:00", "1d 2h")
        for event, day in ((spring, "2027-03-28"), (autumn, "2027-10-31")):
            session = self.session(event, "Zeitumstellung", day + "T10:00", day + "T11:00")
            start = local(day + "T10:00")
            day_before = (start.replace(tzinfo=None) - datetime.timedelta(days=1)).replace(
                tzinfo=ZONE)
            expected = [("1d", utc_text(day_before)),
                        ("2h", utc_text(start - datetime.timedelta(hours=2)))]
            self.assertEqual(self.planned(session["id"], 2), expected)
            # The day before is an hour more or less than 24 hours before
            # (aware datetimes of one zone subtract as wall-clock times: in UTC)
            self.assertIn((start.astimezone(UTC) - day_before.astimezone(UTC)).total_seconds(),
                          (23 * 3600, 25 * 3600))


class OutageTest(ReminderCase):

    def test_after_an_outage_only_the_latest_reminder_is_sent(self):
        event = self.event("Tag der Bildung", reminders="7d 1d")
        session = self.session(event, "Nach dem Ausfall")
        self.register_json(session["id"], "Ida Igel", "ida@outage.example")
        self.assertEqual(len(self.planned(session["id"], 2)), 2)
        # The scheduler is down across both due times; Jan registers meanwhile,
        # after them
        self.scheduler.stop()
        self.set_clock(self.registry, local("2027-03-12T12:00"))
        self.register_json(session["id"], "Jan Jahn", "jan@outage.example")
        self.scheduler.start()
        self.set_clock(self.scheduler, local("2027-03-12T12:00:05"))
        reminders = self.wait_reminders("ida@outage.example", 1)
        self.assertEqual(len(reminders), 1)
        self.assertEqual(self.reminders_to("jan@outage.example"), [])
        self.assertEqual(self.planned(session["id"]), [])


class ReminderInputTest(ReminderCase):

    def test_bad_offsets_are_refused_and_change_nothing(self):
        before = self.schalt_json("event", "list")[1]
        for bad in ("3x", "0d", "61d", "1d 1d", "1d 24h", "7 d", ""):
            code, out, err = self.schalt("event", "create", "--kind", "day-of-education",
                                         "--title", "Falsch", "--start", "2027-03-13T09:00",
                                         "--end", "2027-03-13T17:00", "--place", "Rathaus",
                                         "--reminders", bad)
            self.assertNotEqual(code, 0, bad)
            self.assertIn("reminders", err, bad)
        code, out, err = self.schalt("event", "create", "--kind", "other", "--title", "Anders",
                                     "--start", "2027-03-13T09:00", "--end", "2027-03-13T17:00",
                                     "--place", "Rathaus", "--reminders", "1d")
        self.assertRefused((code, out, err), 422, "no_reminders", "/reminders", "--reminders")
        self.assertEqual(self.schalt_json("event", "list")[1], before)
        # An event of kind other has no reminders, and none may be set by update either
        event = self.event("Anders", "2027-03-13T09:00", "2027-03-13T17:00", kind="other")
        session = self.session(event, "Ohne Erinnerung")
        self.assertEqual(self.planned(session["id"]), [])
        code, out, err = self.schalt("event", "update", event["id"], "--reminders", "2h")
        self.assertRefused((code, out, err), 422, "no_reminders", "/reminders", "--reminders")
        # none is always allowed
        self.assertEqual(self.schalt("event", "update", event["id"], "--reminders", "none")[0], 0)

    def test_the_configured_offsets_apply_to_reminders_not_yet_due(self):
        event = self.event("Tag der Bildung")  # the kind's defaults: 7d 1d
        session = self.session(event, "Konfiguriert")
        self.assertEqual([offset for offset, due in self.planned(session["id"], 2)], ["7d", "1d"])
        self.scheduler.stop()
        self.scheduler.extra["SCHALT_SCHEDULER_REMINDERS_DAY_OF_EDUCATION"] = "3d"
        try:
            self.scheduler.start()
            self.assertEqual(self.planned(session["id"], 1), [("3d", "2027-03-10T09:00:00Z")])
        finally:
            del self.scheduler.extra["SCHALT_SCHEDULER_REMINDERS_DAY_OF_EDUCATION"]
            self.scheduler.stop()
            self.scheduler.start()


class CalendarTest(ReminderCase):
    """Every e-mail about a date carries its calendar entry: one UID for the
    registration's whole life, a growing SEQUENCE, the session's times, and
    METHOD:CANCEL when it is cancelled."""

    def calendar_of(self, message):
        """(method of the text/calendar part, its VEVENTs) of a message, after
        checking the parts' order and that the attachment is the same entry."""
        import icalendar
        self.assertEqual(message.get_content_type(), "multipart/mixed")
        alternative, attachment = message.get_payload()
        text, calendar = alternative.get_payload()
        self.assertEqual(text.get_content_type(), "text/plain")  # the text comes first
        self.assertEqual(calendar.get_content_type(), "text/calendar")
        self.assertEqual(attachment.get_content_type(), "application/ics")
        self.assertEqual(attachment.get_filename(), "termin.ics")
        raw = calendar.get_payload(decode=True)
        self.assertEqual(attachment.get_payload(decode=True), raw)
        parsed = icalendar.Calendar.from_ical(raw)
        self.assertEqual(str(parsed["METHOD"]), calendar.get_param("method"))
        events = [part for part in parsed.walk("VEVENT")]
        return str(parsed["METHOD"]), events

    def test_the_entry_follows_the_registration_through_move_and_cancel(self):
        event = self.event("Tag der Bildung", reminders="1d")
        session = self.session(event, "Kalender")
        person = self.register_json(session["id"], "Karl Kunz", "karl@cal.example")
        confirmed = self.mail_of("karl@cal.example", "Anmeldebestätigung", 1)
        method, events = self.calendar_of(confirmed)
        self.assertEqual((method, len(events)), ("REQUEST", 1))
        first = events[0]
        uid = str(first["UID"])
        self.assertTrue(uid.startswith(person["id"] + "@"), uid)
        self.assertEqual(first["DTSTART"].dt.astimezone(UTC),
                         datetime.datetime(2027, 3, 13, 9, 0, tzinfo=UTC))
        self.assertEqual(first["DTEND"].dt.astimezone(UTC),
                         datetime.datetime(2027, 3, 13, 10, 30, tzinfo=UTC))
        self.assertEqual(first["DTSTART"].params["TZID"], "Europe/Berlin")
        self.assertEqual(str(first["SUMMARY"]), "Kalender")
        self.assertIn("Rathaus Pulheim, Raum R ", str(first["LOCATION"]))
        self.assertIn("mailto:", str(first["ORGANIZER"]))
        self.assertEqual(str(first["ATTENDEE"]), "mailto:karl@cal.example")

        # Moved: the same entry, a higher SEQUENCE, the new times
        self.assertEqual(self.schalt("session", "update", session["id"], "--start",
                                     "2027-03-14T12:00", "--end", "2027-03-14T13:00")[0], 0)
        method, events = self.calendar_of(self.mail_of("karl@cal.example", "Geändert", 2))
        self.assertEqual((method, str(events[0]["UID"])), ("REQUEST", uid))
        self.assertGreater(int(events[0]["SEQUENCE"]), int(first["SEQUENCE"]))
        self.assertEqual(events[0]["DTSTART"].dt.astimezone(UTC),
                         datetime.datetime(2027, 3, 14, 11, 0, tzinfo=UTC))
        moved_sequence = int(events[0]["SEQUENCE"])

        # The reminder carries the entry as it is now
        self.move_clocks("2027-03-13T12:00:05")
        reminder = self.wait_reminders("karl@cal.example", 1)[0]
        method, events = self.calendar_of(reminder)
        self.assertEqual((method, str(events[0]["UID"])), ("REQUEST", uid))
        self.assertGreaterEqual(int(events[0]["SEQUENCE"]), moved_sequence)

        # Cancelled: METHOD:CANCEL, STATUS:CANCELLED, the same UID, a SEQUENCE no lower
        self.assertEqual(self.cancel(person["id"])[0], 0)
        method, events = self.calendar_of(self.mail_of("karl@cal.example", "storniert", 4))
        self.assertEqual((method, str(events[0]["UID"])), ("CANCEL", uid))
        self.assertEqual(str(events[0]["STATUS"]), "CANCELLED")
        self.assertGreaterEqual(int(events[0]["SEQUENCE"]), moved_sequence)

    def test_the_waitlisted_get_no_entry(self):
        event = self.event("Tag der Bildung")
        session = self.session(event, "Voll", capacity=1)
        self.register_json(session["id"], "Lena Lang", "lena@cal.example")
        self.register_json(session["id"], "Mia Moll", "mia@cal.example")
        waiting = self.mail_of("mia@cal.example", "Warteliste", 1)
        self.assertEqual(waiting.get_content_type(), "text/plain")


class CrashTest(ReminderCase):
    """kill -9 of each daemon in turn while 5,000 reminders fall due: every
    reminder arrives, and exactly once by Message-ID (the notifier's SMTP
    window aside: a notice whose acceptance was not yet recorded when it died
    goes out again, with the same Message-ID)."""

    SESSIONS = 50
    PEOPLE = 100

    def register_many(self, session_ids):
        """Registers PEOPLE people for each session, many requests in flight."""
        dealer = self.dealer(self.registry.endpoint)
        sent = 0
        for number, session_id in enumerate(session_ids):
            for person in range(self.PEOPLE):
                dealer.send([harness.PROTOCOL, "registration.create", "crash-%d-%d" % (number, person),
                             json.dumps({"session": session_id, "name": "Person %d" % person,
                                         "email": "p%d.%d@crash.example" % (number, person)})])
                sent += 1
        for _ in range(sent):
            frames = dealer.recv(30)
            self.assertIsNotNone(frames)
            self.assertEqual(frames[1], b"201", frames)

    def test_kill_each_daemon_while_reminders_fall_due(self):
        event = self.event("Tag der Bildung", "2027-03-13T09:00", "2027-03-13T17:00", "1d")
        sessions = []
        for index in range(self.SESSIONS):
            harness.E2ETestCase._rooms += 1
            start = "2027-03-13T10:%02d" % (index % 60)
            sessions.append(self.create_session(event["id"], "Crash %d" % index,
                                                "K %d" % harness.E2ETestCase._rooms, start,
                                                "2027-03-13T11:30", self.PEOPLE)["id"])
        self.register_many(sessions)
        total = self.SESSIONS * self.PEOPLE
        self.assertTrue(harness.wait_until(
            lambda: (self.scheduler_status().get("timeline") or {}).get("planned") == self.SESSIONS,
            30, interval=0.2))
        # Every confirmation delivered (5,000 take a while in a sanitizer build)
        self.assertTrue(harness.wait_until(lambda: self.mail.count() >= total, 240, interval=0.5),
                        self.notifier.status())
        self.settle()
        before = len(self.mail.received())

        def reminders():
            return [m for m in self.mail.received()[before:]]

        # The dues spread over 50 minutes of the clock: the clock runs 60 times
        # faster by being set forward step by step, and each daemon dies once
        start = local("2027-03-12T10:00")
        killed = {}
        for step in range(0, 51):
            moment = start + datetime.timedelta(minutes=step)
            self.set_clock(self.scheduler, moment)
            if step == 12:
                os.kill(self.scheduler.proc.pid, signal.SIGKILL)
                self.scheduler.proc.wait()
                self.scheduler.start()
                self.set_clock(self.scheduler, moment)
                killed["scheduler"] = len(reminders())
            if step == 25:
                self.registry.kill()
                self.registry.start()
                killed["registry"] = len(reminders())
            if step == 38:
                self.notifier.kill()
                self.notifier.start()
                killed["notifier"] = len(reminders())
            time.sleep(0.15)
        self.assertTrue(harness.wait_until(
            lambda: len({m.message_id for m in reminders()}) >= total, 240, interval=0.5),
            (len(reminders()), killed))
        self.settle()
        ids = [m.parse()["Message-ID"] for m in reminders()]
        # Every reminder, each once; a repeat only from the notifier's window
        self.assertEqual(len(set(ids)), total)
        self.assertTrue(all("-rem-1d-r" in message_id for message_id in ids), ids[:3])
        repeats = len(ids) - len(set(ids))
        self.assertLessEqual(repeats, 50, "more repeats than one batch of the notifier: %d" % repeats)
        for kill_point in killed.values():
            self.assertGreater(kill_point, 0, killed)  # each died while reminders went out
            self.assertLess(kill_point, total, killed)

    def scheduler_status(self):
        return harness.daemon_status(self.scheduler.endpoint) or {}
