"""test_notifier - a registration reaches a real mailbox.

The notifier as another daemon meets it (notice.send over a DEALER, the
request id being the notice id) and as a person meets its work: the e-mail
in a real SMTP server's mailbox, read with Python's email package in strict
mode. Each class starts its own redis-server, SMTP server (aiosmtpd) and
schalt-notifier on free loopback ports (see notifier_support.py); the first
retry of a deferred e-mail comes after 1 s instead of a minute.

Every wait polls with a deadline; no test asserts how long anything took.
"""

import email.utils
import json
import os
import shutil
import tempfile
import time
import unittest

import zmq

import harness
from notifier_support import MailServer, Notifier, RawRelay, parse

DOMAIN = "pulheim.example"  # of the configured sender address
WAIT = 30.0  # seconds a notice may take to reach its final state

FACTS = {
    "event_title": "Tag der Bildung 2027",
    "session_title": "Übergang Kita – Grundschule",
    "room": "A101",
    "place": "Gymnasium Pulheim, Hauptstraße 1",
    "start": "2027-03-13T09:00:00Z",
    "end": "2027-03-13T10:30:00Z",
    "recipient_name": "Anna Muster",
}


REGISTRATION = "reg-4k2m9x7q1c-8hz3w0v5ab"
LINKS = {"cancel_url": {"action": "cancel", "subject": REGISTRATION,
                        "expires": "2027-03-13T10:30:00Z"},
         "leave_url": {"action": "decline", "subject": REGISTRATION,
                       "expires": "2027-03-13T10:30:00Z"}}


def notice(email_address, name="Anna Muster", template="registration-confirmed", language="de",
           **variables):
    """A notice.send body for the session of FACTS, with the links a
    registration's notices carry."""
    values = dict(FACTS, recipient_name=name)
    values.update(variables)
    return {"template": template, "language": language,
            "recipient": {"name": name, "email": email_address},
            "variables": {k: v for k, v in values.items() if v is not None},
            "links": LINKS}


class NotifierCase(unittest.TestCase):
    """One Redis, one SMTP server and one notifier per class."""

    NOTIFIER_ENV = {}
    MAIL_SERVER = MailServer  # the relay the notifier sends to

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="schalt-notifier-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.redis = harness.RedisServer(cls.workdir)
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.mail = cls.MAIL_SERVER().start()
        cls.addClassCleanup(cls.mail.stop)
        cls.context = zmq.Context()
        cls.addClassCleanup(cls.context.term)
        cls.notifier = Notifier(cls.workdir, cls.redis, cls.mail, cls.NOTIFIER_ENV)
        cls.addClassCleanup(cls.notifier.stop)
        cls.notifier.start(cls.context)

    def request(self, command, body, request_id=None):
        """Sends a request; returns the Reply after checking its id and schema."""
        dealer = harness.Dealer(self.context, self.notifier.endpoint)
        try:
            request_id = request_id or harness.new_request_id()
            reply = dealer.request(command, body, request_id)
        finally:
            dealer.close()
        self.assertEqual(reply.id, request_id, reply)
        harness.check_reply(self, command, reply.status, reply.body)
        return reply

    def send(self, body, notice_id=None):
        """notice.send; asserts 201; returns the notice id."""
        notice_id = notice_id or "ntc-" + harness.new_request_id()[2:14]
        reply = self.request("notice.send", body, notice_id)
        self.assertEqual(reply.status, 201, reply)
        self.assertEqual(reply.body["notice"]["id"], notice_id)
        return notice_id

    def get(self, notice_id):
        reply = self.request("notice.get", {"id": notice_id})
        self.assertEqual(reply.status, 200, reply)
        return reply.body["notice"]

    def wait_state(self, notice_id, states, timeout=WAIT):
        """Polls notice.get until the notice is in one of states; returns it."""
        found = harness.wait_until(lambda: (lambda n: n if n["state"] in states else None)(
            self.get(notice_id)), timeout, interval=0.1)
        self.assertTrue(found, "notice %s never reached %s; it is %s\n%s" % (
            notice_id, states, self.get(notice_id), self.notifier.log_text()))
        return found

    def delivered(self, notice_id, count=1, timeout=WAIT):
        """Waits until count messages with the notice's Message-ID arrived;
        returns them (raw)."""
        mid = "<%s@%s>" % (notice_id, DOMAIN)
        harness.wait_until(lambda: len(self.mail.with_id(mid)) >= count, timeout, interval=0.1)
        return self.mail.with_id(mid)

    def get_stored_state(self, notice_id):
        """The state in Redis, whether or not a notifier runs to ask."""
        state = self.redis.command("HGET", "notifier:{notices}:notice:" + notice_id, "state")
        return state.decode() if state else None

    def assert_no_more_mail(self, notice_id, count):
        """After a moment for stragglers, exactly count messages carry the id."""
        time.sleep(1.0)
        self.assertEqual(len(self.mail.with_id("<%s@%s>" % (notice_id, DOMAIN))), count)


class DeliveryTest(NotifierCase):
    """What arrives, and how often."""

    def test_confirmation_reaches_the_mailbox_as_a_mail_client_reads_it(self):
        notice_id = self.send(notice("anna.muster@example.org"))
        sent = self.wait_state(notice_id, {"sent"})
        self.assertEqual(len(sent["attempts"]), 1)
        self.assertEqual(sent["attempts"][0]["result"], "sent")
        self.assertEqual(sent["attempts"][0]["smtp"], 250)
        self.assertNotIn("next_attempt", sent)
        [raw] = self.delivered(notice_id)
        message = parse(raw)  # strict: a malformed header raises
        self.assertEqual(message["From"].addresses[0].display_name, "Bildungsbüro Pulheim")
        self.assertEqual(message["From"].addresses[0].addr_spec, "bildungsbuero@" + DOMAIN)
        self.assertEqual(len(message["To"].addresses), 1)
        self.assertEqual(message["To"].addresses[0].display_name, "Anna Muster")
        self.assertEqual(message["To"].addresses[0].addr_spec, "anna.muster@example.org")
        self.assertEqual(str(message["Subject"]), "Anmeldebestätigung: Übergang Kita – "
                         "Grundschule am Samstag, 13. März 2027")
        self.assertEqual(message["Message-ID"], "<%s@%s>" % (notice_id, DOMAIN))
        date = email.utils.parsedate_to_datetime(str(message["Date"]))
        self.assertIsNotNone(date.utcoffset())
        self.assertLess(abs(time.time() - date.timestamp()), 3600)
        self.assertEqual(message["Auto-Submitted"], "auto-generated")
        self.assertEqual(message.get_content_type(), "text/plain")
        self.assertEqual(message.get_content_charset(), "utf-8")
        self.assertEqual(message["Content-Transfer-Encoding"], "quoted-printable")
        # The body names the session, the room, the place, the local date and
        # time (09:00Z is 10:00 in Berlin in March) and the office
        body = message.text()
        for text in ("Guten Tag Anna Muster", "Tag der Bildung 2027",
                     "Übergang Kita – Grundschule", "A101", "Gymnasium Pulheim, Hauptstraße 1",
                     "Samstag, 13. März 2027", "10:00 bis 11:30 Uhr",
                     "Bildungsbüro, Tel. 02238 808-0"):
            self.assertIn(text, body)
        # The cancel link, signed with the first key of the keys file: the
        # very token schalt_token_make makes for it (the registry checks it)
        token = harness.make_token(1, self.notifier.token_secret, "cancel", REGISTRATION,
                                   1804933800)  # 2027-03-13T10:30:00Z
        self.assertIn("  http://127.0.0.1:8080/registration/cancel?token=%s\r\n" % token, body)
        # Every line ends in CRLF, none is longer than 998 octets
        for line in raw.split(b"\r\n")[:-1]:
            self.assertNotIn(b"\n", line)
            self.assertLessEqual(len(line), 998)

    def test_english_waitlist_notice(self):
        notice_id = self.send(notice("ben@example.org", "Ben Smith",
                                     template="registration-waitlisted", language="en",
                                     position="3", start="2027-07-06T16:00:00Z",
                                     end="2027-07-06T17:00:00Z"))
        self.wait_state(notice_id, {"sent"})
        [raw] = self.delivered(notice_id)
        message = parse(raw)
        self.assertEqual(str(message["Subject"]),
                         "Waiting list: Übergang Kita – Grundschule on Tuesday, 6 July 2027")
        body = message.text()
        self.assertIn("Dear Ben Smith", body)
        self.assertIn("number 3", body)
        self.assertIn("18:00 to 19:00", body)  # summer time: UTC+2

    def test_repeated_send_stores_and_mails_once(self):
        body = notice("clara@example.org", "Clara Beispiel")
        notice_id = "ntc-" + harness.new_request_id()[2:14]
        first = self.request("notice.send", body, notice_id)
        self.assertEqual(first.status, 201)
        self.assertEqual(first.body["notice"]["state"], "queued")
        # The outbox of another daemon may deliver the same message again
        for _ in range(3):
            again = self.request("notice.send", body, notice_id)
            self.assertEqual((again.status, again.raw), (201, first.raw))
        self.wait_state(notice_id, {"sent"})
        again = self.request("notice.send", body, notice_id)
        self.assertEqual((again.status, again.raw), (201, first.raw))
        self.assertEqual(len(self.delivered(notice_id)), 1)
        self.assert_no_more_mail(notice_id, 1)
        # The same id for a different notice is refused and changes nothing
        other = self.request("notice.send", notice("mallory@example.org"), notice_id)
        self.assertEqual(other.status, 409)
        self.assertEqual(other.error["code"], "request_id_reused")
        self.assertEqual(self.get(notice_id)["recipient"]["email"], "clara@example.org")

    def test_deferred_then_sent_records_both_attempts(self):
        notice_id = self.send(notice("greylist@example.org"))
        sent = self.wait_state(notice_id, {"sent"})
        attempts = sent["attempts"]
        self.assertEqual([a["result"] for a in attempts], ["deferred", "sent"], attempts)
        self.assertEqual([a["smtp"] for a in attempts], [451, 250])
        self.assertIn("Greylisted", attempts[0]["reply"])
        self.assertLessEqual(attempts[0]["time"], attempts[1]["time"])
        self.assertEqual(len(self.delivered(notice_id)), 1)
        self.assert_no_more_mail(notice_id, 1)

    def test_refused_recipient_fails_with_the_reply(self):
        notice_id = self.send(notice("reject@example.org"))
        failed = self.wait_state(notice_id, {"failed"})
        self.assertEqual(len(failed["attempts"]), 1)
        attempt = failed["attempts"][0]
        self.assertEqual((attempt["result"], attempt["smtp"]), ("failed", 550))
        self.assertIn("user unknown", attempt["reply"])
        self.assertIn("550", failed["reason"])
        self.assertNotIn("next_attempt", failed)
        self.assert_no_more_mail(notice_id, 0)

    def test_missing_variable_fails_with_a_reason_and_sends_nothing(self):
        notice_id = self.send(notice("dora@example.org", room=None))
        failed = self.wait_state(notice_id, {"failed"})
        self.assertEqual(failed["attempts"], [])
        self.assertIn("{{room}}", failed["reason"])
        self.assertIn("room", failed["reason"])
        unknown = self.send(notice("dora@example.org", template="no-such-template"))
        failed = self.wait_state(unknown, {"failed"})
        self.assertIn("no template de/no-such-template.txt", failed["reason"])
        self.assert_no_more_mail(notice_id, 0)
        self.assert_no_more_mail(unknown, 0)

    def test_names_cannot_inject_headers_and_arrive_intact(self):
        names = ['Müller, Anna', 'Eve <eve@evil.example>, bob@example.org',
                 'Anna "Anni" Muster', 'Back\\slash (Kita) ; =?UTF-8?B?SGk=?=',
                 'Zoë Ångström-Øre', "  O'Brien  "]
        ids = [self.send(notice("name%d@example.org" % index, name))
               for index, name in enumerate(names)]
        for index, (notice_id, name) in enumerate(zip(ids, names)):
            self.wait_state(notice_id, {"sent"})
            [raw] = self.delivered(notice_id)
            message = parse(raw)
            [address] = message["To"].addresses
            self.assertEqual(address.addr_spec, "name%d@example.org" % index)
            self.assertEqual(address.display_name.strip(), name.strip())
            self.assertIsNone(message["Bcc"])
            self.assertIn("Guten Tag %s," % name, message.text())

    def test_refused_requests_change_nothing(self):
        cases = [
            ({"recipient": {"name": "Anna\r\nBcc: x@example.org", "email": "a@example.org"}},
             "/recipient/name"),
            ({"recipient": {"name": "Anna", "email": "a@example.org\r\nBcc: x@example.org"}},
             "/recipient/email"),
            ({"variables": dict(FACTS, room="A101\r\nX-Evil: 1")}, "/variables/room"),
            ({"variables": dict(FACTS, room=["A101"])}, "/variables/room"),
            ({"template": "../../etc/passwd"}, "/template"),
            ({"language": "fr"}, "/language"),
            ({"links": {"room": LINKS["cancel_url"]}}, "/links/room"),  # a variable's name
            ({"links": {"Cancel-Url": LINKS["cancel_url"]}}, "/links/Cancel-Url"),
            ({"links": {"x": dict(LINKS["cancel_url"], action="delete")}}, "/links/x/action"),
            ({"links": {"x": dict(LINKS["cancel_url"], subject="reg-../x")}},
             "/links/x/subject"),
            ({"links": {"x": dict(LINKS["cancel_url"], expires="0000-01-01T00:00:00Z")}},
             "/links/x"),
            ({"links": {"x%d" % n: LINKS["cancel_url"] for n in range(21)}}, "/links"),
            ({"sessions": [{"title": "t", "room": "r", "start": FACTS["start"],
                            "end": FACTS["end"]}],
              "variables": dict(FACTS, sessions="x")}, "/variables/sessions"),
        ]
        for change, field in cases:
            body = notice("a@example.org")
            body.update(change)
            notice_id = "ntc-" + harness.new_request_id()[2:14]
            reply = self.request("notice.send", body, notice_id)
            self.assertEqual(reply.status, 400, (change, reply))
            self.assertEqual(reply.error["field"], field)
            self.assertEqual(self.request("notice.get", {"id": notice_id}).status, 404)
        # A body of a line with tabs and breaks is fine in variables
        ok = self.send(notice("a@example.org", place="Gymnasium\nHauptstraße 1\tEingang B"))
        self.wait_state(ok, {"sent"})
        missing = self.request("notice.get", {"id": "ntc-nothere"})
        self.assertEqual((missing.status, missing.error["code"]), (404, "not_found"))

    def test_list_by_state_and_address_newest_first(self):
        # Lists show the most recently changed first: one change at a time here
        address = "Lists.Person@Example.org"
        first = self.send(notice(address))
        self.wait_state(first, {"sent"})
        second = self.send(notice(address.lower()))
        self.wait_state(second, {"sent"})
        failed = self.send(notice("lists.person@example.org", room=None))
        self.wait_state(failed, {"failed"})
        listed = self.request("notice.list", {"to": "LISTS.PERSON@example.org"}).body["notices"]
        self.assertEqual([n["id"] for n in listed], [failed, second, first])
        sent = self.request("notice.list", {"to": address, "state": "sent"}).body["notices"]
        self.assertEqual([n["id"] for n in sent], [second, first])
        failures = self.request("notice.list", {"state": "failed"}).body["notices"]
        self.assertIn(failed, [n["id"] for n in failures])
        self.assertTrue(all(n["state"] == "failed" for n in failures))
        limited = self.request("notice.list", {"limit": 1}).body["notices"]
        self.assertEqual(len(limited), 1)
        refused = self.request("notice.list", {"limit": 0})
        self.assertEqual(refused.status, 400)
        status = self.request("status", {}).body
        self.assertGreaterEqual(status["notices"]["sent"], 2)
        self.assertEqual(status["delivery"]["state"], "delivering")


class SessionEndTest(NotifierCase):
    """The batch at the mailer ends with its SMTP session, not with its last message."""

    def test_notice_queued_while_the_relay_says_goodbye_is_sent_once(self):
        # The relay took the only message of a session and is slow to answer
        # QUIT. A notice queued meanwhile waits for the session's end, and
        # then goes out once and is recorded as sent.
        self.mail.lingering.clear()
        first = self.send(notice("linger@example.org"))
        self.assertTrue(self.mail.lingering.wait(WAIT), self.notifier.log_text())
        second = self.send(notice("after.linger@example.org"))
        self.wait_state(first, {"sent"})
        self.wait_state(second, {"sent"}, timeout=15.0)
        self.assertEqual(len(self.delivered(second)), 1)
        self.assertNotIn("mailer left notices unanswered", self.notifier.log_text())


class StartRefusedTest(NotifierCase):
    """A notifier whose link settings are unfit does not start, and says
    which setting to fix."""

    def start_with(self, **settings):
        notifier = Notifier(self.workdir, self.redis, self.mail, settings)
        proc = harness.spawn([os.path.join(harness.BIN, "schalt-notifier")], env=notifier.env(),
                             log_path=notifier.log + ".refused")
        try:
            code = proc.wait(timeout=harness.START_TIMEOUT)
        finally:
            harness.stop_process(proc)
        self.assertNotEqual(code, 0)
        return harness.tail(notifier.log + ".refused")

    def test_bad_base_url_or_keys_file(self):
        for url in ("ftp://bildung.example", "https://bildung.example/", "https://", "https://a b",
                    "http://bildung.example/\"x"):
            with self.subTest(url):
                self.assertIn("web/base_url must be http:// or https://",
                              self.start_with(SCHALT_WEB_BASE_URL=url))
        missing = os.path.join(self.workdir, "missing.keys")
        self.assertIn("schaltstelle/token_keys: %s: cannot be read" % missing,
                      self.start_with(SCHALT_SCHALTSTELLE_TOKEN_KEYS=missing))
        readable = os.path.join(self.workdir, "readable.keys")
        harness.write_token_keys(readable, [(1, os.urandom(32))])
        os.chmod(readable, 0o644)
        self.assertIn("chmod 600", self.start_with(SCHALT_SCHALTSTELLE_TOKEN_KEYS=readable))


class TemplateCheckTest(NotifierCase):
    """A template that names a placeholder its notices never carry is
    reported when the notifier starts, not when its first e-mail fails."""

    def test_typo_reported_at_start(self):
        folder = os.path.join(self.workdir, "templates")
        shutil.copytree(os.path.join(harness.SOURCE, "templates"), folder)
        path = os.path.join(folder, "de", "session-moved.txt")
        with open(path, encoding="utf-8") as source:
            text = source.read()
        with open(path, "w", encoding="utf-8") as out:
            out.write(text.replace("{{old_room}}", "{{alter_raum}}"))
        notifier = Notifier(self.workdir, self.redis, self.mail,
                            {"SCHALT_NOTIFIER_TEMPLATES": folder})
        notifier.log = os.path.join(self.workdir, "notifier-check.log")
        notifier.start(self.context)
        try:
            log = notifier.log_text()
            self.assertIn("the template %s/de/session-moved.txt uses {{alter_raum}}, which its "
                          "notices never carry" % folder, log)
            self.assertIn("1 problem in the templates", log)
        finally:
            notifier.stop()
        # the shipped templates have none
        self.assertNotIn("problem", self.notifier.log_text())


class BrokenNoticeTest(NotifierCase):
    """A notice that is not whole in Redis (edited by hand) fails once, with a
    reason, instead of coming back after every lease."""

    def test_incomplete_notice_fails_with_a_reason_and_sends_nothing(self):
        notice_id = "ntc-" + harness.new_request_id()[2:14]
        key = "notifier:{notices}:notice:" + notice_id
        now = str(int(time.time() * 1000))
        self.redis.command("HSET", key, "id", notice_id, "state", "queued",
                           "email", "broken@example.org", "attempts", "[]", "deferrals", "0")
        self.redis.command("ZADD", "notifier:{notices}:state:queued", now, notice_id)
        self.redis.command("ZADD", "notifier:{notices}:due", now, notice_id)
        harness.wait_until(lambda: self.get_stored_state(notice_id) == "failed", WAIT,
                           interval=0.1)
        self.assertEqual(self.get_stored_state(notice_id), "failed", self.notifier.log_text())
        self.assertEqual(self.redis.command("HGET", key, "reason"),
                         b"the stored notice is incomplete")
        self.assertIsNone(self.redis.command("ZSCORE", "notifier:{notices}:due", notice_id))
        self.assertEqual(self.redis.command("ZSCORE", "notifier:{notices}:state:queued",
                                            notice_id), None)
        self.assertIsNotNone(self.redis.command("ZSCORE", "notifier:{notices}:state:failed",
                                                notice_id))
        self.assert_no_more_mail(notice_id, 0)


class RelayDownTest(NotifierCase):
    """The relay is down for a while: the notice waits, then goes out."""

    def test_delivered_once_the_relay_is_back(self):
        self.mail.stop()
        try:
            notice_id = self.send(notice("eva@example.org", "Eva Beispiel"))
            deferred = self.wait_state(notice_id, {"deferred"})
            self.assertEqual(deferred["attempts"][0]["smtp"], 0)
            self.assertEqual(deferred["attempts"][0]["result"], "deferred")
            self.assertTrue(deferred["attempts"][0]["reply"])
            self.assertIn("next_attempt", deferred)
        finally:
            self.mail.start()
        sent = self.wait_state(notice_id, {"sent"})
        self.assertEqual(sent["attempts"][-1]["smtp"], 250)
        self.assertTrue(all(a["result"] == "deferred" for a in sent["attempts"][:-1]))
        self.assertEqual(len(self.delivered(notice_id)), 1)
        self.assert_no_more_mail(notice_id, 1)


class GiveUpTest(NotifierCase):
    """A relay that keeps deferring: retries, then failed at the give-up time
    (a minute here: retries after 1, 2, 4, ... seconds, the last at 60 s)."""

    NOTIFIER_ENV = {"SCHALT_NOTIFIER_RETRY_GIVE_UP": "60"}

    def test_failed_after_give_up_with_every_attempt_kept(self):
        notice_id = self.send(notice("defer@example.org"))
        failed = self.wait_state(notice_id, {"failed"}, timeout=120)
        attempts = failed["attempts"]
        self.assertGreaterEqual(len(attempts), 3, attempts)
        self.assertTrue(all(a["result"] == "deferred" and a["smtp"] == 451 for a in attempts))
        self.assertIn("given up", failed["reason"])
        self.assertNotIn("next_attempt", failed)
        self.assert_no_more_mail(notice_id, 0)


class RelayTextTest(NotifierCase):
    """A relay's reply is text from outside: in Latin-1, or any octet at all.
    It is stored, shown and logged as valid UTF-8, and the notifier keeps
    delivering (it used to stop on an assert, and again after every restart)."""

    MAIL_SERVER = RawRelay

    def assertServes(self):
        self.assertIsNone(self.notifier.proc.poll(), self.notifier.log_text())
        self.assertEqual(self.request("status", {}).status, 200)

    def test_latin1_refusal_is_recorded_readably(self):
        notice_id = self.send(notice("latin@example.org"))
        failed = self.wait_state(notice_id, {"failed"})
        attempt = failed["attempts"][0]
        self.assertEqual((attempt["result"], attempt["smtp"]), ("failed", 550))
        # The octet that is not UTF-8 is shown as what it was
        self.assertIn("Empf\\xe4nger unbekannt", attempt["reply"])
        self.assertIn("Pr\\xfcfen Sie die Adresse", attempt["reply"])
        self.assertServes()
        # and the next e-mail goes out as usual
        after = self.send(notice("after.latin@example.org"))
        self.wait_state(after, {"sent"})

    def test_any_octet_and_nul_in_a_reply_keep_the_notifier_running(self):
        notice_id = self.send(notice("bytes@example.org"))
        deferred = self.wait_state(notice_id, {"deferred"})
        reply = deferred["attempts"][0]["reply"]
        self.assertEqual(deferred["attempts"][0]["smtp"], 451)
        # Each octet as \xNN, in order, cut (the reply is kept to a line) after
        # a whole one; nothing of the NUL or past it
        self.assertRegex(reply, r"^4\.0\.0 \\x80\\x81\\x82(\\x[89a-f][0-9a-f])+$")
        self.assertNotIn("after the NUL", reply)
        self.assertTrue(all(ord(c) >= 0x20 and not 0x7f <= ord(c) <= 0x9f for c in reply), reply)
        # A restart meets the same reply again on the retry: still no crash
        self.notifier.kill()
        self.notifier.start(self.context)
        harness.wait_until(lambda: len(self.get(notice_id)["attempts"]) >= 2, WAIT, interval=0.2)
        self.assertGreaterEqual(len(self.get(notice_id)["attempts"]), 2, self.notifier.log_text())
        self.assertServes()


class CrashTest(NotifierCase):
    """kill -9 at the worst moments; a restart finishes the work."""

    def restart(self):
        self.notifier.start(self.context)

    def test_killed_right_after_the_acknowledgement_mails_exactly_once(self):
        # The relay answers this address slowly, so whatever the notifier had
        # started when it was killed, the relay cannot have accepted it yet
        notice_id = self.send(notice("hold@example.org"))
        self.notifier.kill()
        self.restart()
        self.wait_state(notice_id, {"sent"})
        self.assertEqual(len(self.delivered(notice_id)), 1)
        self.assert_no_more_mail(notice_id, 1)

    def test_killed_between_relay_and_record_sends_again_with_the_same_id(self):
        # The documented window: the relay has the message, the notifier dies
        # before it records that. The next notifier sends it again, with the
        # same Message-ID, and says so in its log.
        self.mail.slow_data.clear()
        notice_id = self.send(notice("slow@example.org"))
        self.assertTrue(self.mail.slow_data.wait(WAIT), self.notifier.log_text())
        self.notifier.kill()
        self.assertEqual(self.get_stored_state(notice_id), "sending")
        self.restart()
        sent = self.wait_state(notice_id, {"sent"})
        self.assertEqual(len(sent["attempts"]), 1)
        raws = self.delivered(notice_id, count=2)
        self.assertEqual(len(raws), 2)
        self.assertEqual({parse(raw)["Message-ID"] for raw in raws},
                         {"<%s@%s>" % (notice_id, DOMAIN)})
        self.assertIn("notice: resending after crash id=%s" % notice_id,
                      self.notifier.log_text())

    def test_killed_mid_session_sends_again_only_what_the_relay_had_not_taken(self):
        # One SMTP session with two messages: the relay takes the first at once
        # and holds the second's data. The first is recorded as sent while the
        # session goes on, so a notifier killed then sends only the second again.
        self.mail.slow_data.clear()
        prefix = "ntc-" + harness.new_request_id()[2:12]
        quick_id, slow_id = prefix + "-a", prefix + "-b"
        dealer = harness.Dealer(self.context, self.notifier.endpoint)
        try:
            # Sent together, so that one claim takes both, in this order
            for notice_id, address in ((quick_id, "quick@example.org"),
                                       (slow_id, "slow.second@example.org")):
                dealer.send([harness.PROTOCOL, "notice.send", notice_id,
                             json.dumps(notice(address)).encode()])
            self.assertEqual([dealer.reply().status for _ in range(2)], [201, 201])
        finally:
            dealer.close()
        self.assertTrue(self.mail.slow_data.wait(WAIT), self.notifier.log_text())
        quick_mid, slow_mid = ("<%s@%s>" % (notice_id, DOMAIN) for notice_id in (quick_id, slow_id))
        self.assertEqual(self.mail.sessions_of(quick_mid), self.mail.sessions_of(slow_mid))
        self.assertTrue(harness.wait_until(lambda: self.get_stored_state(quick_id) == "sent", 5.0,
                                           interval=0.05), self.notifier.log_text())
        self.notifier.kill()
        self.assertEqual(self.get_stored_state(slow_id), "sending")
        self.restart()
        self.wait_state(slow_id, {"sent"})
        self.assertEqual(len(self.delivered(slow_id, count=2)), 2)
        self.assert_no_more_mail(quick_id, 1)

    def test_clean_stop_mid_session_records_the_result_and_sends_once(self):
        # SIGTERM while the relay holds the data: the notifier waits for the
        # reply, records it and frees the delivery lock before it exits
        self.mail.slow_data.clear()
        notice_id = self.send(notice("slow.stop@example.org"))
        self.assertTrue(self.mail.slow_data.wait(WAIT), self.notifier.log_text())
        self.assertEqual(self.notifier.stop(), 0)
        self.assertEqual(self.get_stored_state(notice_id), "sent")
        self.assertIsNone(self.redis.command("GET", "notifier:{notices}:lock"))
        self.restart()
        self.assertEqual(self.get(notice_id)["state"], "sent")
        self.assert_no_more_mail(notice_id, 1)


if __name__ == "__main__":
    unittest.main()
