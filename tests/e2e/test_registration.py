"""test_registration - registering people, as the office and its users meet it.

Each class runs its own redis-server, schalt-scheduler, schalt-registry and
(when it is built) schalt-notifier with a real SMTP server (aiosmtpd) in this
process, all on free loopback ports (see harness.py). Sessions are made with
`schalt`; the scheduler tells the registry their facts through its outbox;
people register with `schalt register` or, where the CLI cannot send what a
test needs (a NUL, a lone CR), on the wire. The checks are what a user, an
organiser or a mail client would see: the CLI's output, the state in Redis,
the e-mail as Python's email package parses it.

Exit codes of schalt: 0 done, 1 refused by a daemon, 2 usage error, 3 no answer.
"""

import collections
import csv
import datetime
import email.utils
import io
import os
import random
import re
import subprocess
import unittest

import harness

# The form of a registration id, as the reply schema says it
REGISTRATION_ID = re.compile(harness.schema_validator("reply/registration.create").schema[
    "properties"]["registration"]["properties"]["id"]["pattern"])
MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")
MAIL_TIMEOUT = 60.0  # seconds e-mails may take to arrive (a bound, not a timing check)
NO_NOTIFIER = "build/bin/schalt-notifier is not built yet: the e-mail checks are skipped"
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def made_up_id(kind):
    """An id of the given kind ("ses", "evt") that nobody has made; a
    session's carries its (made-up) event."""
    def ten():
        return "".join(random.choice(CROCKFORD) for _ in range(10))
    return kind + "-" + ten() + ("-" + ten() if kind == "ses" else "")


def facts(session_id, revision, title, start, end, capacity=10, status="scheduled"):
    """A session.facts body as the scheduler sends it (its event's id made
    from the session's)."""
    return {"revision": revision,
            "session": {"id": session_id, "title": title, "room": "B 12", "start": start,
                        "end": end, "capacity": capacity, "status": status},
            "event": {"id": "evt-" + session_id[4:14], "kind": "day-of-education",
                      "title": "Tag der Bildung", "place": "Rathaus", "status": "scheduled"}}


class RegistrationCase(harness.E2ETestCase):
    """What the registration tests share."""

    REGISTRY = True
    NOTIFIER = True

    def register(self, session_id, name, address, *more, **env):
        """`schalt register`; returns (exit code, stdout, stderr)."""
        return self.schalt("register", "--session", session_id, "--name", name, "--email",
                           address, *more, **env)

    def register_json(self, session_id, name, address, *more):
        """`schalt --json register`; returns the registration after checking
        it against the reply schema."""
        code, registration, err = self.schalt_json("register", "--session", session_id, "--name",
                                                   name, "--email", address, *more)
        self.assertEqual(code, 0, err)
        harness.check_reply(self, "registration.create", 201, {"registration": registration})
        return registration

    def schalt_bytes(self, *args):
        """The CLI's stdout as bytes (exact line ends and BOM); it must exit 0."""
        result = subprocess.run([os.path.join(harness.BIN, "schalt")] + list(args),
                                env=self.scheduler.env(), stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def stored(self, session_id):
        """The session's registration hashes in Redis: id -> dict of str."""
        prefix = harness.registry_prefix(session_id) + "registration:"
        stored = {key[len(prefix):]: self.redis.hash(key) for key in self.redis.keys(prefix + "*")}
        return {id: fields for id, fields in stored.items() if fields["session"] == session_id}

    def members(self, session_id, name):
        """The ids in the session's zset `name` (confirmed, waitlist), in order."""
        return [member.decode() for member in
                self.redis.command("ZRANGE", harness.session_key(session_id, name), 0, -1)]

    def mails_to(self, address, count=1, timeout=MAIL_TIMEOUT):
        """The messages delivered to address, after waiting (bounded) until
        count of them arrived."""
        def found():
            return [mail for mail in self.mail.received() if mail.rcpt_tos == [address]]
        harness.wait_until(lambda: len(found()) >= count, timeout, interval=0.1)
        return found()

    def assertCleanMail(self, message):
        """Fails unless the message and each header parsed without a defect
        (what a strict mail client would complain about)."""
        self.assertEqual(list(message.defects), [], "message defects")
        for name, value in message.items():
            self.assertEqual(list(getattr(value, "defects", ())), [],
                             "defects in header %s: %r" % (name, value))

    def assertOneRecipient(self, message, name, address):
        """The To header names exactly one mailbox: name <address>."""
        to = message["To"]
        self.assertEqual(len(to.addresses), 1, str(to))
        self.assertEqual(to.addresses[0].display_name, name)
        self.assertEqual(to.addresses[0].addr_spec, address)


# ---------------------------------------------------------------------------


class RegisterTest(RegistrationCase):
    """schalt register and schalt registrations."""

    def test_confirmed_then_waitlisted_in_arrival_order(self):
        session = self.open_session("Sprachförderung im Alltag", capacity=2)
        outputs, ids = [], []
        for number, name in enumerate(["Anna Becker", "Bernd Schulz", "Clara Weiß",
                                       "Dieter Öztürk"]):
            code, out, err = self.register(session["id"], name, "person%d@kita.example" % number)
            self.assertEqual((code, err), (0, ""), out)
            outputs.append(out)
            ids.append(re.search(r"registration (reg-\S+)\)", out).group(1))
        self.assertRegex(outputs[0], r"^confirmed \(registration reg-\S+\)\n$")
        self.assertRegex(outputs[1], r"^confirmed \(registration reg-\S+\)\n$")
        self.assertRegex(outputs[2], r"^waitlisted \(position 1, registration reg-\S+\)\n$")
        self.assertRegex(outputs[3], r"^waitlisted \(position 2, registration reg-\S+\)\n$")
        for registration_id in ids:
            self.assertRegex(registration_id, REGISTRATION_ID)
            # a registration id carries its event's ten characters, as its session's does
            self.assertEqual(registration_id[4:14], session["id"][4:14])
        self.assertEqual(len(set(ids)), 4)

        # What was acknowledged is what Redis holds
        self.assertEqual(self.members(session["id"], "confirmed"), ids[:2])
        self.assertEqual(self.members(session["id"], "waitlist"), ids[2:])
        stored = self.stored(session["id"])
        self.assertEqual(set(stored), set(ids))
        self.assertEqual({k: stored[ids[3]][k] for k in ("name", "email", "status", "language")},
                         {"name": "Dieter Öztürk", "email": "person3@kita.example",
                          "status": "waitlisted", "language": "de"})

        # The organiser's list: every person, confirmed first, then the waitlist
        code, out, err = self.schalt("registrations", "--session", session["id"])
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[0], "Sprachförderung im Alltag: 2 of 2 seats taken, 2 waiting")
        self.assertRegex(lines[1],
                         r"^#\s+STATUS\s+NAME\s+E-MAIL\s+INSTITUTION\s+LANG\s+REGISTERED$")
        self.assertRegex(lines[2], r"^1\s+confirmed\s+Anna Becker\s+person0@kita\.example\s+de\s+")
        self.assertRegex(lines[3], r"^2\s+confirmed\s+Bernd Schulz\s+person1@kita\.example\s+")
        self.assertRegex(lines[4], r"^1\s+waitlisted\s+Clara Weiß\s+person2@kita\.example\s+")
        self.assertRegex(lines[5], r"^2\s+waitlisted\s+Dieter Öztürk\s+person3@kita\.example\s+")
        self.assertEqual(len(lines), 6)
        self.assertRegex(lines[2], r"\s20\d\d-\d\d-\d\d \d\d:\d\d$")  # registered, local time


    def test_same_address_again_says_already_registered(self):
        session = self.open_session("Elterncafé", capacity=1)
        code, out, err = self.register(session["id"], "Erna Fuchs", "erna.fuchs@example.org")
        self.assertEqual(code, 0, err)
        registration_id = re.search(r"registration (reg-\S+)\)", out).group(1)
        state = self.registry_state(session["id"])
        # the same address in other case, under another name: no new registration
        again = self.register(session["id"], "E. Fuchs", "Erna.Fuchs@EXAMPLE.org")
        self.assertEqual(self.registry_state(session["id"]), state)
        self.assertEqual(again, (0, "already registered: confirmed (registration %s)\n"
                                 % registration_id, ""))

    def test_same_address_again_changes_nothing(self):
        session = self.open_session("Elterncafé II", capacity=1)
        first = self.register_json(session["id"], "Emil Fischer", "emil.fischer@example.org")
        state = self.registry_state(session["id"])
        reply = self.registry_request("registration.create", {
            "session": session["id"], "name": "E. Fischer", "email": "EMIL.fischer@example.ORG"})
        self.assertEqual((reply.status, reply.body), (200, {"registration": first}))
        code, again, err = self.schalt_json("register", "--session", session["id"], "--name",
                                            "Emil", "--email", "Emil.Fischer@example.org")
        self.assertEqual((code, again), (0, first), err)
        self.assertEqual(self.registry_state(session["id"]), state)
        self.assertEqual(len(self.stored(session["id"])), 1)
        if self.notifier:
            # one e-mail, to the first registration's address, none for the attempts
            self.assertTrue(harness.wait_until(
                lambda: self.registry.outbox("notifier")["depth"] == 0, 10))
            self.assertEqual(len(self.mails_to("emil.fischer@example.org")), 1)
            harness.wait_until(lambda: False, 1.0)  # a second would come within this
            self.assertEqual(len([m for m in self.mail.received()
                                  if m.rcpt_tos[0].lower() == "emil.fischer@example.org"]), 1)

    def test_json_replies_follow_the_schemas(self):
        session = self.open_session("Medienkompetenz", capacity=1)
        confirmed = self.register_json(session["id"], "Fatma Yılmaz", "fatma@example.org",
                                       "--institution", "Familienzentrum Nord", "--lang", "en")
        self.assertEqual(confirmed["status"], "confirmed")
        self.assertNotIn("position", confirmed)
        self.assertEqual((confirmed["name"], confirmed["email"], confirmed["institution"],
                          confirmed["language"], confirmed["session"]),
                         ("Fatma Yılmaz", "fatma@example.org", "Familienzentrum Nord", "en",
                          session["id"]))
        waiting = self.register_json(session["id"], "Gustav Lang", "gustav@example.org")
        self.assertEqual((waiting["status"], waiting["position"], waiting["language"]),
                         ("waitlisted", 1, "de"))
        self.assertNotIn("institution", waiting)

        code, listed, err = self.schalt_json("registrations", "--session", session["id"])
        self.assertEqual(code, 0, err)
        harness.check_reply(self, "registration.list", 200, listed)
        self.assertEqual(listed["confirmed"], [confirmed])
        self.assertEqual(listed["waitlist"], [waiting])
        self.assertEqual((listed["session"]["id"], listed["session"]["title"],
                          listed["session"]["capacity"]), (session["id"], "Medienkompetenz", 1))
        # --id: one id a line, the seats first, then the waitlist
        code, ids, err = self.schalt("--id", "registrations", "--session", session["id"])
        self.assertEqual((code, ids), (0, "%s\n%s\n" % (confirmed["id"], waiting["id"])), err)
        # each registration as registration.get shows it, and its event (no personal data)
        for registration in (confirmed, waiting):
            reply = self.registry_request("registration.get", {"id": registration["id"]})
            self.assertEqual((reply.status, reply.body), (200, {"registration": registration}))

    def test_registrations_as_csv(self):
        session = self.open_session("Übergang Schule – Beruf", capacity=2)
        people = [
            ("Meier; \"Chefin\" der Kita", "meier@example.org", "Kita \"Sonnenschein\"; Nord"),
            ("=HYPERLINK(\"http://evil.example\",\"Klick\")", "formula@example.org", "@Schule"),
            ("Jörg Weiß-Äpfelbaum", "joerg@example.org", "+49 Verein"),
            ("-Minus", "minus@example.org", None),
        ]
        for name, address, institution in people:
            more = ("--institution", institution) if institution else ()
            code, out, err = self.register(session["id"], name, address, *more)
            self.assertEqual(code, 0, err)

        raw = self.schalt_bytes("registrations", "--session", session["id"], "--csv")
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM first: %r" % raw[:20])
        text = raw[3:].decode("utf-8")
        self.assertTrue(text.endswith("\r\n"), text[-20:])
        self.assertNotIn("\n", text.replace("\r\n", ""), "a bare line feed")
        self.assertNotIn("\r", text.replace("\r\n", ""), "a bare carriage return")
        lines = text.split("\r\n")[:-1]
        self.assertEqual(lines[0], "#;STATUS;NAME;E-MAIL;INSTITUTION;LANG;REGISTERED")
        # quoted as RFC 4180 says, with ';' between cells
        self.assertTrue(lines[1].startswith(
            '1;confirmed;"Meier; ""Chefin"" der Kita";meier@example.org;'
            '"Kita ""Sonnenschein""; Nord";de;'), lines[1])
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        self.assertEqual(len(rows), 5, rows)
        self.assertTrue(all(len(row) == 7 for row in rows), rows)
        by_email = {row[3]: row for row in rows[1:]}
        self.assertEqual(by_email["meier@example.org"][2], "Meier; \"Chefin\" der Kita")
        self.assertEqual(by_email["meier@example.org"][4], "Kita \"Sonnenschein\"; Nord")
        # a cell a spreadsheet would run as a formula starts with '
        self.assertEqual(by_email["formula@example.org"][2],
                         "'=HYPERLINK(\"http://evil.example\",\"Klick\")")
        self.assertEqual(by_email["formula@example.org"][4], "'@Schule")
        self.assertEqual(by_email["joerg@example.org"][2], "Jörg Weiß-Äpfelbaum")
        self.assertEqual(by_email["joerg@example.org"][4], "'+49 Verein")
        self.assertEqual(by_email["minus@example.org"][2], "'-Minus")
        self.assertEqual(by_email["minus@example.org"][4], "")
        self.assertEqual([row[1] for row in rows[1:]],
                         ["confirmed", "confirmed", "waitlisted", "waitlisted"])
        self.assertEqual([row[0] for row in rows[1:]], ["1", "2", "1", "2"])
        for row in rows[1:]:
            self.assertEqual(row[5], "de")
            self.assertRegex(row[6], r"^20\d\d-\d\d-\d\d \d\d:\d\d$")
        # what is defused in the export is stored as it was typed
        names = {r["email"]: r["name"] for r in self.stored(session["id"]).values()}
        self.assertEqual(names["formula@example.org"], people[1][0])
        self.assertEqual(names["minus@example.org"], "-Minus")

    def test_display_names_are_accepted_and_stored_exactly(self):
        """Quotes, angle brackets, commas, '=?' and letters of any script are
        parts of real names: accepted, stored and shown exactly, and in the
        e-mail each stays one display name of one recipient."""
        session = self.open_session("Namen", capacity=10)
        names = ["Müller, Hans-Jürgen", "Hans \"Hansi\" Groß", "Eve <eve@evil.example>",
                 "O'Brien & Söhne, <Chef>", "Zoë Ångström-Łukasiewicz", "=?UTF-8?B?SGFjaw==?=",
                 "a, b <c@d.example>, e", "Παπαδόπουλος Γιώργος", "Ali (Vater von Lina)"]
        ids = {}
        for number, name in enumerate(names):
            address = "name%d@familie.example" % number
            code, out, err = self.register(session["id"], name, address, "--institution",
                                           "Kita \"Regenbogen\", <Nord>")
            self.assertEqual(code, 0, "%r: %s" % (name, err))
            ids[re.search(r"registration (reg-\S+)\)", out).group(1)] = (name, address)
        stored = self.stored(session["id"])
        for registration_id, (name, address) in ids.items():
            self.assertEqual(stored[registration_id]["name"], name)
            self.assertEqual(stored[registration_id]["institution"], "Kita \"Regenbogen\", <Nord>")
            reply = self.registry_request("registration.get", {"id": registration_id})
            self.assertEqual(reply.body["registration"]["name"], name)
        if not self.notifier:
            return
        for registration_id, (name, address) in ids.items():
            mails = self.mails_to(address)
            self.assertEqual(len(mails), 1, address)
            self.assertEqual(mails[0].rcpt_tos, [address])
            message = mails[0].parse()
            self.assertCleanMail(message)
            self.assertOneRecipient(message, name, address)
            self.assertIn(name, message.text())


class RefusalTest(RegistrationCase):
    """What the registry refuses: exit 1, the code and field shown, nothing
    stored (a refusal decided by a script leaves only its replay record, which
    expires)."""

    def assertNothingStored(self, session_id, before, address):
        """The session's keys are as before, replay records aside, every
        replay record expires, and no notice to address was made."""
        self.assertEqual(self.registry_state(session_id), before)
        self.assertNoNotice(session_id, address)
        for key in self.redis.keys(harness.registry_prefix(session_id) + "request:*"):
            self.assertGreater(self.redis.command("TTL", key), 0, key)

    def test_unknown_session(self):
        unknown = made_up_id("ses")
        result = self.register(unknown, "Ida Klein", "ida.unknown@example.org")
        self.assertRefused(result, 404, "not_found", "/session")
        self.assertEqual(self.registry_state(unknown), {})
        self.assertNoNotice(unknown, "ida.unknown@example.org")
        self.assertRefused(self.schalt("registrations", "--session", unknown), 404, "not_found",
                           "/session")
        self.assertRefused(self.register("ses-12", "Ida Klein", "ida@example.org"), 400,
                           "invalid", "/session")

    def test_invalid_input_is_refused_and_stores_nothing(self):
        session = self.open_session("Refusals", capacity=5)
        before = self.registry_state(session["id"], with_requests=True)
        cases = [
            (("Ida Klein", "not-an-address"), "/email"),
            (("Ida Klein", "ida@"), "/email"),
            (("Ida Klein", "ida@example.org\r\nBcc: victim@example.org"), "/email"),
            (("Ida Klein", "ida@example.org>, <victim@example.org"), "/email"),
            (("x" * 201, "ida@example.org"), "/name"),
            (("ü" * 201, "ida@example.org"), "/name"),
            (("", "ida@example.org"), "/name"),
            (("   ", "ida@example.org"), "/name"),
            (("Ida\r\nBcc: victim@example.org", "ida@example.org"), "/name"),
            (("Ida\nKlein", "ida@example.org"), "/name"),
            (("Ida\tKlein", "ida@example.org"), "/name"),
            (("Ida\x1b[31mKlein", "ida@example.org"), "/name"),
            (("Ida Klein", "ida@example.org", "--institution", "Kita\r\nBcc: victim@example.org"),
             "/institution"),
            (("Ida Klein", "ida@example.org", "--institution", "Kita\nNord"), "/institution"),
            (("Ida Klein", "ida@example.org", "--lang", "fr"), "/language"),
            (("Ida Klein", "ida@example.org", "--lang", "DE"), "/language"),
        ]
        # The refusal names the option as typed: --lang for /language
        options = {"/language": "--lang", "/name": "--name", "/email": "--email",
                   "/institution": "--institution"}
        for args, field in cases:
            with self.subTest(args=args):
                result = self.register(session["id"], *args)
                self.assertRefused(result, 400, "invalid", field, options[field])
        self.assertEqual(self.registry_state(session["id"], with_requests=True), before)
        # the limits: 200 characters (not bytes) are fine
        code, out, err = self.register(session["id"], "ü" * 200, "ida@example.org")
        self.assertEqual(code, 0, err)
        self.assertEqual(list(self.stored(session["id"]).values())[0]["name"], "ü" * 200)

    def test_raw_control_characters_on_the_wire(self):
        """What the CLI cannot send: NUL (as \\u0000 and raw), a lone CR, DEL."""
        session = self.open_session("Wire refusals", capacity=5)
        before = self.registry_state(session["id"], with_requests=True)
        dealer = self.dealer(self.registry.endpoint)
        template = '{"session":"%s","name":%s,"email":"nul@example.org"%s}'
        cases = [
            (template % (session["id"], '"Ida\\u0000Klein"', ""), "invalid_json", ""),
            (template % (session["id"], '"Ida Klein"', ',"institution":"Kita\\u0000"'),
             "invalid_json", ""),
            ((template % (session["id"], '"Ida\x00Klein"', "")), "invalid_json", ""),
            (template % (session["id"], '"Ida\\rBcc: victim@example.org"', ""), "invalid", "/name"),
            (template % (session["id"], '"Ida\\u000d\\u000aBcc: v@example.org"', ""), "invalid",
             "/name"),
            (template % (session["id"], '"Ida Klein"', ',"institution":"Kita\\rNord"'),
             "invalid", "/institution"),
            (template % (session["id"], '"Ida\\u007fKlein"', ""), "invalid", "/name"),
        ]
        for raw, code, field in cases:
            with self.subTest(raw=raw):
                reply = self.registry_request("registration.create", raw.encode(), dealer=dealer)
                self.assertEqual((reply.status, reply.error.get("code")), (400, code), reply)
                if field:
                    self.assertEqual(reply.error["field"], field, reply)
        self.assertEqual(self.registry_state(session["id"], with_requests=True), before)


    def test_c1_control_characters_are_refused(self):
        session = self.open_session("C1", capacity=5)
        before = self.registry_state(session["id"], with_requests=True)
        for number, name in enumerate(("Ida\u0085Klein", "Ida\u009b31mKlein")):
            with self.subTest(name=name):
                self.assertRefused(self.register(session["id"], name, "c1-%d@example.org" % number),
                                   400, "invalid", "/name")
        self.assertEqual(self.registry_state(session["id"], with_requests=True), before)

    def test_cancelled_session(self):
        session = self.open_session("Abgesagt", capacity=5)
        code, out, err = self.register(session["id"], "Jana Roth", "jana@example.org")
        self.assertEqual(code, 0, err)
        code, out, err = self.schalt("session", "cancel", session["id"], "--reason",
                                     "Referentin erkrankt")
        self.assertEqual(code, 0, err)
        listed = self.wait_for_facts(session["id"],
                                     lambda listed: listed["session"]["status"] == "cancelled")
        # who registered is registered no more (test_lifecycle reads the e-mail)
        self.assertEqual((listed["confirmed"], listed["waitlist"]), ([], []))
        (jana,) = self.stored(session["id"]).values()
        self.assertEqual((jana["status"], jana["reason"]), ("cancelled", "Referentin erkrankt"))
        before = self.registry_state(session["id"])
        result = self.register(session["id"], "Karl Vogt", "karl@example.org")
        self.assertRefused(result, 409, "session_cancelled", "/session")
        self.assertNothingStored(session["id"], before, "karl@example.org")
        # the same address again: refused too
        self.assertRefused(self.register(session["id"], "Jana Roth", "jana@example.org"), 409,
                           "session_cancelled", "/session")

    def test_cancelled_event_cancels_its_sessions_for_the_registry(self):
        event = self.create_event("Fachtag Inklusion", "2027-03-13T09:00", "2027-03-13T17:00")
        sessions = [self.create_session(event["id"], "Workshop %d" % number, "R %d" % number,
                                        "2027-03-13T10:00", "2027-03-13T11:00", 5)
                    for number in (1, 2)]
        for session in sessions:
            self.wait_for_facts(session["id"], lambda listed: True)
        code, out, err = self.schalt("event", "cancel", event["id"])
        self.assertEqual(code, 0, err)
        # (all facts first, the last revision of each: the state compared below is
        # the whole event's, and the registry ends a cancelled event's sessions with
        # the first facts that say so, before the others' own facts arrive)
        for session in sessions:
            revision = self.redis.hash(harness.PREFIX + "session:" + session["id"])["revision"]
            self.assertTrue(harness.wait_until(
                lambda: self.redis.hash(harness.session_key(session["id"])).get("revision")
                == revision, 15), revision)
        for session in sessions:
            before = self.registry_state(session["id"])
            self.assertRefused(self.register(session["id"], "Lea Horn", "lea@example.org"), 409,
                               "session_cancelled", "/session")
            self.assertNothingStored(session["id"], before, "lea@example.org")

    def test_session_that_has_begun(self):
        """Facts of a session that began yesterday (as the scheduler would send
        them, on the wire): registering is refused."""
        session_id = made_up_id("ses")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        start = (now - datetime.timedelta(days=1)).isoformat().replace("+00:00", "Z")
        end = (now + datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
        reply = self.registry_request("session.facts", facts(session_id, 1, "Gestern", start, end),
                                      "sf-%s-1" % session_id)
        self.assertEqual(reply.status, 200, reply)
        before = self.registry_state(session_id)
        self.assertRefused(self.register(session_id, "Mia Sommer", "mia@example.org"), 409,
                           "session_past", "/session")
        self.assertNothingStored(session_id, before, "mia@example.org")


class FactsTest(RegistrationCase):
    """The registry learns what the scheduler changes."""

    def test_facts_from_the_year_0000_are_refused_and_the_registry_stays_up(self):
        session_id = made_up_id("ses")
        reply = self.registry_request(
            "session.facts",
            facts(session_id, 1, "Nullzeit", "0000-01-01T10:00:00Z", "2099-01-01T11:00:00Z"),
            "sf-%s-1" % session_id)
        self.assertEqual((reply.status, reply.error.get("field")), (400, "/session/start"), reply)
        self.assertEqual(self.registry_request("status", {}).status, 200)
        self.assertEqual(self.redis.command("EXISTS", harness.session_key(session_id)), 0)

    def test_session_and_event_changes_reach_the_registry(self):
        session = self.open_session("Alter Titel", capacity=2, event_title="Fachtag Alt")
        code, out, err = self.schalt("session", "update", session["id"], "--title",
                                     "Neuer Titel: Übergänge gestalten", "--capacity", "3",
                                     "--room", "Aula")
        self.assertEqual(code, 0, err)
        listed = self.wait_for_facts(
            session["id"],
            lambda listed: listed["session"]["title"] == "Neuer Titel: Übergänge gestalten")
        self.assertEqual((listed["session"]["capacity"], listed["session"]["room"]), (3, "Aula"))
        code, out, err = self.schalt("registrations", "--session", session["id"])
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines()[0],
                         "Neuer Titel: Übergänge gestalten: 0 of 3 seats taken, 0 waiting")
        # the new capacity counts: three confirmed, then the waitlist
        statuses = [self.register_json(session["id"], "Person %d" % n,
                                       "facts%d@example.org" % n)["status"] for n in range(4)]
        self.assertEqual(statuses, ["confirmed"] * 3 + ["waitlisted"])
        # an event's change reaches its sessions' facts
        code, out, err = self.schalt("event", "update", session["event"], "--title", "Fachtag Neu")
        self.assertEqual(code, 0, err)
        self.wait_for_facts(session["id"],
                            lambda listed: listed["session"]["event_title"] == "Fachtag Neu")
        if self.notifier:
            address = "facts-mail@example.org"
            self.register_json(session["id"], "Nina Brandt", address)
            body = self.mails_to(address)[0].parse().text()
            self.assertIn("Fachtag Neu", body)
            self.assertIn("Neuer Titel: Übergänge gestalten", body)
            self.assertIn("Aula", body)

    def test_facts_never_go_backwards(self):
        """An old fact that arrives late (on the wire) changes nothing."""
        session_id = made_up_id("ses")
        start, end = "2027-05-03T08:00:00Z", "2027-05-03T09:00:00Z"
        newer = self.registry_request("session.facts", facts(session_id, 3, "Neu", start, end),
                                      "sf-%s-3" % session_id)
        self.assertEqual((newer.status, newer.body),
                         (200, {"applied": True, "revision": 3, "told": 0, "promoted": 0}))
        older = self.registry_request("session.facts", facts(session_id, 2, "Alt", start, end, 99),
                                      "sf-%s-2" % session_id)
        self.assertEqual((older.status, older.body), (200, {"applied": False, "revision": 3}))
        listed = self.registry_list(session_id)
        self.assertEqual((listed["session"]["title"], listed["session"]["capacity"]), ("Neu", 10))
        # a repeated delivery of the newer one gets its first reply, byte for byte
        again = self.registry_request("session.facts", facts(session_id, 3, "Neu", start, end),
                                      "sf-%s-3" % session_id)
        self.assertEqual(again.status, 200)


    def test_raised_capacity_keeps_arrival_order(self):
        session = self.open_session("Mehr Plätze", capacity=1)
        first = self.register_json(session["id"], "Anton", "anton@example.org")
        second = self.register_json(session["id"], "Berta", "berta@example.org")
        self.assertEqual((first["status"], second["status"]), ("confirmed", "waitlisted"))
        code, out, err = self.schalt("session", "update", session["id"], "--capacity", "2")
        self.assertEqual(code, 0, err)
        self.wait_for_facts(session["id"], lambda listed: listed["session"]["capacity"] == 2)
        third = self.register_json(session["id"], "Cäsar", "caesar@example.org")
        listed = self.registry_list(session["id"])
        confirmed = [registration["id"] for registration in listed["confirmed"]]
        self.assertNotIn(third["id"], confirmed, "a newcomer passed the waitlist: %r" % listed)


class BurstTest(RegistrationCase):
    """2,000 people register for one session of 100 seats from 50 clients at
    once (each its own DEALER, one request in flight, as a web front end's
    workers would)."""

    PEOPLE = 2000
    CAPACITY = 100
    CLIENTS = 50

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.maxDiff = None
        case = cls("test_seats_in_arrival_order")
        cls.session = case.open_session("Ansturm", capacity=cls.CAPACITY)
        case.doCleanups()
        cls.people = [{"session": cls.session["id"], "name": "Teilnehmerin Nr. %04d Größe" % n,
                       "email": "burst%04d@schule.example" % n} for n in range(cls.PEOPLE)]
        cls.outcomes = harness.burst(cls.context, cls.registry.endpoint, "registration.create",
                                     cls.people, cls.CLIENTS)

    def test_seats_in_arrival_order(self):
        replies = [outcome.reply for outcome in self.outcomes]
        self.assertEqual([reply is not None for reply in replies].count(False), 0,
                         "requests without a final answer")
        self.assertEqual(collections.Counter(reply.status for reply in replies), {201: 2000})
        for reply in replies[:20]:
            harness.check_reply(self, "registration.create", reply.status, reply.body)
        registrations = [reply.body["registration"] for reply in replies]
        for person, registration in zip(self.people, registrations):
            self.assertEqual((registration["email"], registration["name"]),
                             (person["email"], person["name"]))
        ids = [registration["id"] for registration in registrations]
        self.assertEqual(len(set(ids)), self.PEOPLE)
        confirmed = [r for r in registrations if r["status"] == "confirmed"]
        waiting = [r for r in registrations if r["status"] == "waitlisted"]
        self.assertEqual(len(confirmed), self.CAPACITY)
        self.assertEqual(sorted(r["position"] for r in waiting),
                         list(range(1, self.PEOPLE - self.CAPACITY + 1)))

        # Redis: every person once, seats and waitlist by arrival
        session_id = self.session["id"]
        stored = self.stored(session_id)
        self.assertEqual(set(stored), set(ids))
        self.assertEqual(len({r["email"].lower() for r in stored.values()}), self.PEOPLE)
        self.assertEqual(self.redis.command("HLEN", harness.session_key(session_id, "emails")),
                         self.PEOPLE)
        by_arrival = sorted(stored.values(), key=lambda r: int(r["arrival"]))
        self.assertEqual([int(r["arrival"]) for r in by_arrival], list(range(1, self.PEOPLE + 1)))
        self.assertEqual([r["id"] for r in by_arrival[:self.CAPACITY]],
                         self.members(session_id, "confirmed"))
        self.assertEqual([r["id"] for r in by_arrival[self.CAPACITY:]],
                         self.members(session_id, "waitlist"))
        self.assertEqual({r["status"] for r in by_arrival[:self.CAPACITY]}, {"confirmed"})
        self.assertEqual({r["status"] for r in by_arrival[self.CAPACITY:]}, {"waitlisted"})

        # the organiser's list says what each person was told
        listed = self.registry_list(session_id)
        self.assertEqual(len(listed["confirmed"]), self.CAPACITY)
        self.assertEqual([r["position"] for r in listed["waitlist"]],
                         list(range(1, self.PEOPLE - self.CAPACITY + 1)))
        told = {r["id"]: (r["status"], r.get("position")) for r in registrations}
        for registration in listed["confirmed"] + listed["waitlist"]:
            self.assertEqual((registration["status"], registration.get("position")),
                             told[registration["id"]])

    @unittest.skipUnless(harness.NOTIFIER_BUILT, NO_NOTIFIER)
    def test_every_person_gets_one_email(self):
        told = {outcome.body["email"]: outcome.reply.body["registration"]
                for outcome in self.outcomes if outcome.reply and outcome.reply.status == 201}
        self.assertEqual(len(told), self.PEOPLE)
        arrived = self.mail.wait_for(self.PEOPLE, 120)
        self.assertTrue(harness.wait_until(
            lambda: self.registry.outbox("notifier")["depth"] == 0, 30))
        harness.wait_until(lambda: False, 1.0)  # a duplicate would come within this
        mails = [m for m in self.mail.received() if m.rcpt_tos[0] in told]
        self.assertEqual(len(mails), self.PEOPLE, "arrived in all: %d" % arrived)
        by_id = collections.Counter(mail.message_id for mail in mails)
        self.assertEqual([mid for mid, count in by_id.items() if count > 1], [])
        self.assertEqual(len(by_id), self.PEOPLE)
        self.assertEqual(sorted(m.rcpt_tos[0] for m in mails), sorted(told))
        names = {person["email"]: person["name"] for person in self.people}
        for mail in mails:
            address = mail.rcpt_tos[0]
            self.assertEqual(len(mail.rcpt_tos), 1)
            message = mail.parse()
            self.assertOneRecipient(message, names[address], address)
            self.assertRegex(mail.message_id, MESSAGE_ID)
            registration = told[address]
            subject = str(message["Subject"])
            if registration["status"] == "confirmed":
                self.assertIn("Anmeldebestätigung", subject)
            else:
                self.assertIn("Warteliste", subject)
                self.assertRegex(message.text(),
                                 r"auf Platz %d\b" % registration["position"])


@unittest.skipUnless(harness.NOTIFIER_BUILT, NO_NOTIFIER)
class MailTest(RegistrationCase):
    """The confirmation e-mail as a mail client shows it."""

    def test_german_confirmation(self):
        session = self.open_session("Übergang Kita – Grundschule", capacity=1,
                                    event_title="Tag der Bildung 2027", place="Rathaus Pulheim",
                                    room="Ratssaal (2. OG)", start="2027-03-13T10:00",
                                    end="2027-03-13T11:30")
        name, address = "Jürgen Müller-Lüdenscheidt", "juergen@familie.example"
        self.register_json(session["id"], name, address, "--institution", "Kita Sonnenschein")
        mails = self.mails_to(address)
        self.assertEqual(len(mails), 1)
        mail = mails[0]
        self.assertEqual(mail.rcpt_tos, [address])
        self.assertEqual(mail.mail_from, "bildungsbuero@pulheim.example")
        message = mail.parse()
        self.assertCleanMail(message)
        sender = message["From"].addresses
        self.assertEqual(len(sender), 1)
        self.assertEqual((sender[0].display_name, sender[0].addr_spec),
                         ("Bildungsbüro Pulheim", "bildungsbuero@pulheim.example"))
        self.assertOneRecipient(message, name, address)
        subject = str(message["Subject"])
        self.assertIn("Anmeldebestätigung", subject)
        self.assertIn("Übergang Kita – Grundschule", subject)
        self.assertIn("13. März 2027", subject)
        sent = email.utils.parsedate_to_datetime(str(message["Date"]))
        self.assertIsNotNone(sent.tzinfo)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((sent - now).total_seconds()), 86400, message["Date"])
        self.assertRegex(str(message["Message-ID"]), MESSAGE_ID)
        # The text, then the calendar entry (RFC 6047) for the seat
        self.assertEqual(message.get_content_type(), "multipart/mixed")
        self.assertEqual([part.get_content_type() for part in message.walk()],
                         ["multipart/mixed", "multipart/alternative", "text/plain",
                          "text/calendar", "application/ics"])
        self.assertEqual(message.get_body(preferencelist=("plain",)).get_content_charset(),
                         "utf-8")
        body = message.text()
        for text in ("Tag der Bildung 2027", "Übergang Kita – Grundschule", "Ratssaal (2. OG)",
                     "Rathaus Pulheim", "13. März 2027", "10:00", "11:30", name):
            self.assertIn(text, body)
        self.assertNotIn("{{", body)
        # the waitlist e-mail says where on the list
        waiting = self.register_json(session["id"], "Zoë Ångström", "zoe@familie.example")
        message = self.mails_to("zoe@familie.example")[0].parse()
        self.assertCleanMail(message)
        self.assertIn("Warteliste", str(message["Subject"]))
        self.assertRegex(message.text(), r"auf Platz %d\b" % waiting["position"])
        self.assertNotEqual(str(message["Message-ID"]), str(mail.parse()["Message-ID"]))

    def test_english_confirmation(self):
        session = self.open_session("Transitions: Nursery to School", capacity=3,
                                    event_title="Education Day 2027", place="Town Hall Pulheim",
                                    room="B 7", start="2027-03-13T10:00", end="2027-03-13T11:30")
        name, address = "Siobhán O'Neill", "siobhan@family.example"
        self.register_json(session["id"], name, address, "--lang", "en")
        message = self.mails_to(address)[0].parse()
        self.assertCleanMail(message)
        self.assertOneRecipient(message, name, address)
        subject = str(message["Subject"])
        self.assertIn("Registration confirmed", subject)
        self.assertIn("13 March 2027", subject)
        body = message.text()
        for text in ("Dear " + name, "Education Day 2027", "Transitions: Nursery to School",
                     "Town Hall Pulheim", "B 7", "13 March 2027", "10:00"):
            self.assertIn(text, body)
        for german in ("Guten Tag", "März", "Anmeldung"):
            self.assertNotIn(german, body + subject)
        self.assertEqual(str(message.get("Content-Language", "en")), "en")


if __name__ == "__main__":
    unittest.main()
