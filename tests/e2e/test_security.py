"""test_security - who may say what: CURVE on every socket, keys, roles, the audit log.

Every daemon takes connections only from keys in its keys directory and each
command only from the roles its declaration names (schalt_server.h). These
tests play the callers an attacker or a mistake would be: a process without a
key, a key the daemons do not know, a removed key, an organiser's key sending
what only the scheduler or the registry may send (the forged session.facts and
notice.send of the issue), the web front's key without a logged-in user, and
bad key directories at start and on SIGHUP. Each must change nothing. Then the
audit log: every change appears once, with the key (and web user) that made it.

The class works on a copy of the test keys, so that removing one does not
disturb other tests.
"""

import json
import os
import re
import shutil
import signal
import tempfile
import time
import unittest

import harness
from harness import PROTOCOL, new_request_id


def forged_facts(session_id, capacity=100000):
    """A session.facts body such as the scheduler sends, for an existing session."""
    return {"revision": 999,
            "session": {"id": session_id, "title": "Gefälscht", "room": "X 1",
                        "start": "2027-03-13T09:00:00Z", "end": "2027-03-13T10:00:00Z",
                        "capacity": capacity, "status": "scheduled", "promotion": "auto",
                        "hold_hours": 48},
            "event": {"id": "evt-" + session_id[4:14], "kind": "day-of-education",
                      "title": "Gefälscht", "place": "Nirgendwo", "status": "scheduled",
                      "waitlist_alert": 10}}


def notice_body(address):
    """A notice.send body: an e-mail the notifier would send to address."""
    return {"template": "registration-confirmed", "language": "de",
            "recipient": {"name": "Opfer", "email": address},
            "variables": {"recipient_name": "Opfer", "event_title": "Spam", "session_title": "Spam",
                          "start": "2027-03-13T09:00:00Z", "end": "2027-03-13T10:00:00Z",
                          "place": "Nirgendwo", "room": "X"},
            "links": {}}


class SecurityCase(harness.E2ETestCase):
    """All four daemons and the mail sink, on a keys directory of the class's own."""

    REGISTRY = True
    NOTIFIER = True
    WEB = True

    @classmethod
    def setUpClass(cls):
        harness.KEYS.make()
        cls.keys_dir = tempfile.mkdtemp(prefix="schalt-security-keys-")
        os.chmod(cls.keys_dir, 0o755)
        for name in os.listdir(harness.KEYS.dir):
            shutil.copy(os.path.join(harness.KEYS.dir, name), cls.keys_dir)
        cls.SCHEDULER_ENV = dict(cls.SCHEDULER_ENV, SCHALT_SCHALTSTELLE_KEYS=cls.keys_dir)
        super().setUpClass()
        cls.addClassCleanup(shutil.rmtree, cls.keys_dir, True)

    def hangup(self, *daemons):
        """SIGHUP: the daemons re-read the keys directory."""
        for daemon in daemons:
            daemon.proc.send_signal(signal.SIGHUP)

    def registry_state(self):
        return self.redis.snapshot(pattern="registry:*")

    def audit(self, *args, **env):
        """`schalt --json audit ARGS` (an admin's key unless env says otherwise)."""
        code, entries, err = self.schalt_json("audit", *args, **env)
        self.assertEqual(code, 0, err)
        return entries


class KeysTest(SecurityCase):

    def test_a_client_without_a_key_gets_nothing_and_the_daemon_serves_on(self):
        for daemon in (self.scheduler, self.registry, self.notifier):
            plain = self.dealer(daemon.endpoint, key=None)
            plain.send([PROTOCOL, "status", new_request_id(), b"{}"])
            self.assertIsNone(plain.recv(timeout=1.0), daemon)
            self.assertEqual(self.dealer(daemon.endpoint).request("status", {}).status, 200)

    def test_a_key_not_in_the_directory_gets_nothing(self):
        elsewhere = tempfile.mkdtemp(prefix="schalt-stranger-")
        self.addCleanup(shutil.rmtree, elsewhere, True)
        harness.KEYS.create("stranger", "admin", keys_dir=elsewhere)
        stranger = self.dealer(self.registry.endpoint, key="stranger")
        stranger.send([PROTOCOL, "status", new_request_id(), b"{}"])
        self.assertIsNone(stranger.recv(timeout=1.0))
        # The CLI says why, at once, instead of retrying
        code, out, err = self.schalt("event", "list",
                                     SCHALT_CLI_KEY=harness.KEYS.secret_path("stranger"))
        self.assertEqual(code, 3, err)
        self.assertIn("refused this client's key 'stranger'", err)
        self.assertNotIn("asking again", err)
        self.assertEqual(self.dealer(self.registry.endpoint).request("status", {}).status, 200)

    def test_a_removed_key_is_refused_after_sighup_and_the_others_keep_working(self):
        harness.KEYS.create("leaving", "organiser", keys_dir=self.keys_dir)
        self.hangup(self.registry)
        # Accepted once the registry has re-read the directory
        self.assertTrue(harness.wait_until(
            lambda: self._status_with("leaving") == 200, 5), self.registry.log_text())
        kept = self.dealer(self.registry.endpoint, key="leaving")
        self.assertEqual(kept.request("status", {}).status, 200)
        # Its subscriber gets the registry's log lines
        listener = harness.Subscriber(self.context, self.registry.events, b"log.", key="leaving")
        self.addCleanup(listener.close)
        a_log_line = lambda frames: b"registration.list" in frames[2]  # noqa: E731
        self.assertTrue(harness.wait_until(lambda: (
            kept.request("registration.list", {"session": "ses-0000000000-0000000000"}),
            listener.next(a_log_line, timeout=0.3))[1] is not None, 5))

        os.remove(os.path.join(self.keys_dir, "leaving.cert"))
        self.hangup(self.registry)
        # Its connection made before stays, its key does not: 403 from then on
        self.assertTrue(harness.wait_until(
            lambda: kept.request("status", {}).status == 403, 5), self.registry.log_text())
        reply = kept.request("registration.list", {"session": "ses-0000000000-0000000000"})
        self.assertEqual((reply.status, reply.error["code"]), (403, "unknown_key"), reply)
        # A new connection gets nothing at all
        self.assertIsNone(self._status_with("leaving"))
        self.assertIn("auth: keys reloaded", self.registry.log_text())
        # ... and its subscriber hears nothing more (its connection was dropped, and
        # its reconnection refused), while a known key's hears on
        self.assertTrue(harness.wait_until(
            lambda: "subscribers reconnect" in self.registry.log_text(), 5), self.registry.log_text())
        staying = harness.Subscriber(self.context, self.registry.events, b"log.")
        self.addCleanup(staying.close)
        admin = self.dealer(self.registry.endpoint)
        self.assertTrue(harness.wait_until(lambda: (
            admin.request("registration.list", {"session": "ses-0000000000-0000000000"}),
            staying.next(a_log_line, timeout=0.3))[1] is not None, 5))
        while listener.next(timeout=0.2):
            pass  # what it had before the drop
        admin.request("registration.list", {"session": "ses-0000000000-0000000000"})
        self.assertIsNone(listener.next(a_log_line, timeout=1.0))
        # Everyone else is served as before
        self.assertEqual(self.dealer(self.registry.endpoint).request("status", {}).status, 200)
        self.assertEqual(self.dealer(self.registry.endpoint, key="erika").request(
            "status", {}).status, 200)

    def _status_with(self, key):
        dealer = harness.Dealer(self.context, self.registry.endpoint, key=key)
        try:
            dealer.send([PROTOCOL, "status", new_request_id(), b"{}"])
            frames = dealer.recv(timeout=0.5)
            return harness.Reply(frames).status if frames else None
        finally:
            dealer.close()

    def test_a_broken_certificate_on_sighup_keeps_the_keys_read_before(self):
        broken = os.path.join(self.keys_dir, "broken.cert")
        with open(broken, "w") as out:
            out.write('metadata\n    name = "broken"\ncurve\n    public-key = "abc"\n')
        self.addCleanup(lambda: os.path.exists(broken) and os.remove(broken))
        self.hangup(self.notifier)
        self.assertTrue(harness.wait_until(
            lambda: "auth: keys not reloaded" in self.notifier.log_text(), 5))
        self.assertIn("broken.cert", self.notifier.log_text())
        self.assertEqual(self.dealer(self.notifier.endpoint).request("status", {}).status, 200)
        os.remove(broken)
        self.hangup(self.notifier)

    def start_refused(self, name, **settings):
        """Starts another `name` daemon with settings; asserts that it exits
        with an error and returns its log."""
        log = os.path.join(self.workdir, "refused-%s.log" % new_request_id())
        env = self.registry.env() if name == "registry" else self.notifier.env()
        env.update({k: str(v) for k, v in settings.items()})
        proc = harness.spawn([os.path.join(harness.BIN, "schalt-" + name)], env=env,
                             log_path=log)
        try:
            proc.wait(timeout=10)
        finally:
            harness.stop_process(proc)
        self.assertNotEqual(proc.returncode, 0)
        with open(log, encoding="utf-8", errors="replace") as source:
            return source.read()

    def test_a_bad_keys_directory_at_start_is_refused_naming_the_path(self):
        missing = os.path.join(self.workdir, "no-such-keys")
        self.assertIn(missing, self.start_refused("registry", SCHALT_SCHALTSTELLE_KEYS=missing))

        open_dir = tempfile.mkdtemp(prefix="schalt-open-keys-")
        self.addCleanup(shutil.rmtree, open_dir, True)
        for name in os.listdir(self.keys_dir):
            shutil.copy(os.path.join(self.keys_dir, name), open_dir)
        os.chmod(open_dir, 0o777)
        log = self.start_refused("notifier", SCHALT_SCHALTSTELLE_KEYS=open_dir)
        self.assertIn("writable by every user", log)
        self.assertIn(open_dir, log)

        os.chmod(open_dir, 0o755)
        with open(os.path.join(open_dir, "norole.cert"), "w") as out:
            out.write('metadata\n    name = "norole"\ncurve\n    public-key = "%s"\n'
                      % harness.KEYS.public("erika").decode())
        log = self.start_refused("registry", SCHALT_SCHALTSTELLE_KEYS=open_dir)
        self.assertIn("norole.cert: metadata/role is missing", log)

    def test_a_daemon_with_another_daemons_key_does_not_start(self):
        log = self.start_refused("registry", SCHALT_REGISTRY_CERTIFICATE=harness.KEYS.secret_path(
            "notifier"))
        self.assertIn("registry/certificate is the key of 'notifier'", log)


class RolesTest(SecurityCase):

    def test_a_forged_session_facts_is_refused_and_changes_nothing(self):
        session = self.open_session("Echt", capacity=3)
        before = self.registry_state()
        for key in ("admin", "erika", "web", "registry"):
            reply = self.registry_request("session.facts", forged_facts(session["id"]),
                                          dealer=self.dealer(self.registry.endpoint, key=key))
            self.assertEqual((reply.status, reply.error["code"]), (403, "forbidden"), reply)
            self.assertIn("session.facts", reply.error["message"])
        self.assertEqual(self.registry_state(), before)
        # The scheduler's own change afterwards is applied as always
        self.assertEqual(self.schalt("session", "update", session["id"], "--capacity", "5")[0], 0)
        self.wait_for_facts(session["id"], lambda listed: listed["session"]["capacity"] == 5)

    def test_notice_send_only_from_the_registry_and_admins(self):
        before = self.redis.snapshot(pattern="notifier:*")
        for key in ("erika", "web", "scheduler", "lead", "counsellor"):
            dealer = self.dealer(self.notifier.endpoint, key=key)
            reply = dealer.request("notice.send", notice_body("opfer@example.org"))
            self.assertEqual((reply.status, reply.error["code"]), (403, "forbidden"), (key, reply))
        self.assertEqual(self.redis.snapshot(pattern="notifier:*"), before)
        time.sleep(0.5)
        self.assertEqual(self.mail.count(), 0)
        # An admin's key may
        reply = self.dealer(self.notifier.endpoint).request("notice.send",
                                                            notice_body("admin@example.org"))
        self.assertEqual(reply.status, 201, reply)
        self.assertTrue(self.mail.wait_for(1, 30))

    def test_an_organiser_may_plan_but_not_read_the_audit_log(self):
        env = {"SCHALT_CLI_KEY": harness.KEYS.secret_path("erika")}
        code, event, err = self.schalt_json("event", "create", "--kind", "meeting", "--title",
                                            "AK Übergänge", "--start", "2027-04-13T18:00",
                                            "--end", "2027-04-13T19:30", "--place", "Rathaus",
                                            **env)
        self.assertEqual(code, 0, err)
        code, out, err = self.schalt("audit", **env)
        self.assertEqual(code, 1, out)
        self.assertIn("forbidden", err)
        self.assertIn("the role organiser may not call audit.list", err)

    def test_the_web_front_acts_only_for_a_logged_in_user_whose_role_may(self):
        web = self.dealer(self.scheduler.endpoint, key="web")
        body = {"kind": "other", "title": "Vom Web", "start": "2027-05-01T08:00:00Z",
                "end": "2027-05-01T09:00:00Z", "place": "Rathaus"}
        before = self.redis.snapshot()
        reply = web.request("event.create", body)
        self.assertEqual((reply.status, reply.error["code"]), (403, "forbidden"), reply)
        self.assertIn("only on behalf of a logged-in user", reply.error["message"])
        for user in (b"lena group-lead", b"carl counsellor"):
            web.send([PROTOCOL, "event.create", new_request_id(), json.dumps(body).encode(), user])
            reply = web.reply()
            self.assertEqual(reply.status, 403, reply)
            self.assertIn("of the web user", reply.error["message"])
        self.assertEqual(self.redis.snapshot(), before)
        # Public reads need no user, and a logged-in one of any role may make them
        self.assertEqual(web.request("event.list", {}).status, 200)
        web.send([PROTOCOL, "event.list", new_request_id(), b"{}", b"lena group-lead"])
        self.assertEqual(web.reply().status, 200)
        # For a logged-in organiser, it may
        request_id = new_request_id()
        web.send([PROTOCOL, "event.create", request_id, json.dumps(body).encode(),
                  b"erika organiser"])
        reply = web.reply()
        self.assertEqual(reply.status, 201, reply)
        entries = self.audit("--object", reply.body["event"]["id"])
        self.assertEqual([(e["who"], e["user"], e["user_role"], e["command"], e["request"])
                          for e in entries],
                         [("web", "erika", "organiser", "event.create", request_id)])
        # A participant's link goes through the web front without a user, with its token
        registry_web = self.dealer(self.registry.endpoint, key="web")
        reply = registry_web.request("registration.cancel", {"token": "AAAA"})
        self.assertNotEqual(reply.status, 403, reply)
        reply = registry_web.request("registration.cancel", {"id": "reg-0000000000-0000000000"})
        self.assertEqual(reply.status, 403, reply)

    def test_only_the_web_front_speaks_for_a_user(self):
        dealer = self.dealer(self.scheduler.endpoint, key="erika")
        dealer.send([PROTOCOL, "event.list", new_request_id(), b"{}", b"chef admin"])
        reply = dealer.reply()
        self.assertEqual(reply.status, 403, reply)
        self.assertIn("only the web front sends requests on behalf of a user",
                      reply.error["message"])


class AuditTest(SecurityCase):

    def test_every_change_appears_once_with_its_caller(self):
        session = self.open_session("Protokolliert", capacity=1)
        code, out, err = self.schalt("register", "--session", session["id"], "--name",
                                     "Erika Mustermann", "--email", "erika@audit.example")
        self.assertEqual(code, 0, err)
        registration = re.search(r"reg-[0-9a-z]{10}-[0-9a-z]{10}", out).group(0)
        self.assertTrue(self.mail.wait_for(1, 30))

        # The scheduler: event.create and session.create by the admin
        made = self.audit("--service", "scheduler", "--object", session["id"])
        self.assertEqual([(e["who"], e["role"], e["command"], e["status"]) for e in made],
                         [("admin", "admin", "session.create", 201)])
        # The registry: the facts from the scheduler, the registration by the admin
        facts = self.audit("--service", "registry", "--object", session["id"], "--who",
                           "scheduler")
        self.assertEqual({(e["command"], e["role"]) for e in facts},
                         {("session.facts", "scheduler")})
        booked = self.audit("--object", registration)
        self.assertEqual([(e["service"], e["who"], e["command"]) for e in booked],
                         [("registry", "admin", "registration.create")])
        # The notifier: the confirmation, from the registry
        sent = [e for e in self.audit("--service", "notifier", "--who", "registry")
                if e["command"] == "notice.send"]
        self.assertEqual(len(sent), 1, sent)
        # No participant's name or address in any entry
        everything = json.dumps(self.audit("--limit", "10000"))
        self.assertNotIn("erika@audit.example", everything)
        self.assertNotIn("Mustermann", everything)

    def test_a_replay_is_not_a_second_entry_and_a_refusal_is_one(self):
        body = {"kind": "other", "title": "Zweimal", "start": "2027-06-01T08:00:00Z",
                "end": "2027-06-01T09:00:00Z", "place": "Rathaus"}
        request_id = new_request_id()
        first = self.request("event.create", body, request_id)
        again = self.request("event.create", body, request_id)
        self.assertEqual((first.status, again.raw), (201, first.raw))
        entries = [e for e in self.audit("--service", "scheduler") if e["request"] == request_id]
        self.assertEqual(len(entries), 1, entries)

        refused_id = new_request_id()
        self.dealer(self.notifier.endpoint, key="erika").request(
            "notice.send", notice_body("x@example.org"), refused_id)
        refused = [e for e in self.audit("--service", "notifier", "--who", "erika")
                   if e["request"] == refused_id]
        self.assertEqual([(e["command"], e["status"], e["role"]) for e in refused],
                         [("notice.send", 403, "organiser")])

    def test_audit_refuses_bad_options(self):
        for args in (("--since", "gestern"), ("--limit", "0"), ("--who", "Erika!")):
            code, out, err = self.schalt("audit", *args)
            self.assertIn(code, (1, 2), (args, out, err))


class AuditTrimTest(harness.E2ETestCase):
    """Entries older than schaltstelle/audit_days go, by the daemon's clock."""

    SCHEDULER_ENV = {"SCHALT_SCHALTSTELLE_TEST_CLOCK": "settable",
                     "SCHALT_SCHALTSTELLE_AUDIT_DAYS": "400"}

    def test_old_entries_are_trimmed(self):
        for index in range(3):
            self.create_event("Alt %d" % index, "2027-03-13T09:00", "2027-03-13T17:00")
        log = "scheduler:{audit}:log"
        self.assertTrue(harness.wait_until(lambda: self.redis.command("XLEN", log) == 3, 5))
        self.set_clock(self.scheduler, "2030-01-01T00:00:00Z")
        # Left: the clock.set itself (made at the new time); the trimmer looks every 10 s
        self.assertTrue(harness.wait_until(lambda: self.redis.command("XLEN", log) == 1, 30),
                        self.scheduler.log_text())
        code, entries, err = self.schalt_json("audit", "--service", "scheduler")
        self.assertEqual(code, 0, err)
        self.assertEqual([e["command"] for e in entries], ["clock.set"])


if __name__ == "__main__":
    unittest.main()
