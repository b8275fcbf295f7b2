"""test_faults - registrations and their e-mails when a part of the system dies.

Each class runs its own redis-server (AOF, fsync always), schalt-scheduler,
schalt-registry and, when it is built, schalt-notifier with a real SMTP server
(aiosmtpd) in this process, on free loopback ports (see harness.py). A test
kills one of them with SIGKILL (no chance to finish anything) or takes the
SMTP server away, starts it again (same ports, same Redis folder), and checks
what the architecture promises (rules 3 and 4): nothing acknowledged is lost,
nothing is half-written, every message between daemons arrives, and every
e-mail goes out, once.

The one duplicate the design allows (notifier_delivery.h): a notifier killed
after the SMTP server accepted a message and before it recorded that sends
the message again, with the same Message-ID. The tests accept a second copy
only for such a message (it arrived before the kill and was not recorded as
sent); any other copy is a failure.

Every wait is bounded; every process is stopped by its pid.
"""

import collections
import json
import threading
import unittest

import harness

NO_NOTIFIER = "build/bin/schalt-notifier is not built yet: the e-mail checks are skipped"
SETTLE = 60.0  # seconds the system may take to deliver everything after a restart
NOTIFIER_KEYS = "notifier:{notices}:"  # read here only to judge a duplicate e-mail


def notice_id(registration_id):
    """The id of a registration's confirmation notice (docs/decisions.md)."""
    return "ntc-%s-registered" % registration_id[4:]


class FaultCase(harness.E2ETestCase):
    """What the fault tests share: a registry (and notifier) with short
    Redis timeouts, so that a dead Redis is noticed at once."""

    REGISTRY = True
    NOTIFIER = True
    SCHEDULER_ENV = {"SCHALT_SCHEDULER_REDIS_TIMEOUT": "500"}
    REGISTRY_ENV = {"SCHALT_REGISTRY_REDIS_TIMEOUT": "500"}
    NOTIFIER_ENV = {"SCHALT_NOTIFIER_REDIS_TIMEOUT": "500"}

    def people(self, session_id, count, tag):
        """Request bodies of count different people for the session."""
        return [{"session": session_id, "name": "Person %s %03d Weiß" % (tag, number),
                 "email": "%s%03d@fault.example" % (tag, number)} for number in range(count)]

    def register_all(self, bodies, clients=8):
        """Registers everyone on the wire; returns the registrations as the
        replies told them (each must be 201), by address."""
        outcomes = harness.burst(self.context, self.registry.endpoint, "registration.create",
                                 bodies, clients)
        told = {}
        for outcome in outcomes:
            self.assertIsNotNone(outcome.reply, outcome.body)
            self.assertEqual(outcome.reply.status, 201, outcome.reply)
            told[outcome.body["email"]] = outcome.reply.body["registration"]
        return told

    def outbox_depth(self, service, peer):
        """The depth of the service's outbox to peer as `schalt --json status`
        shows it (None if the service did not answer)."""
        code, out, err = self.schalt("--json", "status", SCHALT_CLI_TIMEOUT=1000)
        self.assertTrue(out.strip(), "schalt status printed nothing (exit %d): %s" % (code, err))
        for status in json.loads(out):
            if status.get("service") == service and "outboxes" in status:
                return status["outboxes"][peer]["depth"]
        return None

    def wait_for_depth(self, service, peer, predicate, timeout=SETTLE):
        """Waits (bounded) until predicate(depth) holds; returns the depth."""
        seen = []

        def check():
            seen[:] = [self.outbox_depth(service, peer)]
            return seen[0] is not None and predicate(seen[0])

        harness.wait_until(check, timeout, interval=0.2)
        return seen[0]

    def sent_notices(self):
        """The ids of the notices the notifier has recorded as sent (read
        from its Redis keys, only to judge duplicates)."""
        return {member.decode() for member in
                self.redis.command("ZRANGE", NOTIFIER_KEYS + "state:sent", 0, -1)}

    def assertEveryMailOnce(self, told, allowed_twice=frozenset(), timeout=SETTLE):
        """Waits (bounded) until every person in told (address ->
        registration) has an e-mail, then checks: each person's e-mails
        have one Message-ID, are to that person alone, and come once, except
        (at most twice) for the addresses in allowed_twice."""
        def delivered():
            return {m.rcpt_tos[0] for m in self.mail.received() if m.rcpt_tos[0] in told}
        harness.wait_until(lambda: len(delivered()) == len(told), timeout, interval=0.2)
        self.assertEqual(self.wait_for_depth("registry", "notifier", lambda d: d == 0), 0)
        harness.wait_until(lambda: False, 1.5)  # a late copy would come within this
        mails = collections.defaultdict(list)
        for mail in self.mail.received():
            if mail.rcpt_tos[0] in told:
                mails[mail.rcpt_tos[0]].append(mail)
        self.assertEqual(sorted(set(told) - set(mails)), [], "no e-mail came\n" +
                         self.notifier.log_text())
        twice = []
        for address, copies in mails.items():
            self.assertEqual(len({mail.message_id for mail in copies}), 1,
                             "%s got different e-mails" % address)
            for mail in copies:
                self.assertEqual(mail.rcpt_tos, [address])
                self.assertEqual(mail.parse()["To"].addresses[0].addr_spec, address)
            if len(copies) > 1:
                twice.append(address)
                self.assertIn(address, allowed_twice,
                              "%s got its e-mail %d times" % (address, len(copies)))
                self.assertEqual(len(copies), 2, address)
        return twice


@unittest.skipUnless(harness.NOTIFIER_BUILT, NO_NOTIFIER)
class NotifierKillTest(FaultCase):

    def test_notifier_killed_right_after_acknowledgements(self):
        session = self.open_session("Notifier stirbt", capacity=10)
        told = self.register_all(self.people(session["id"], 60, "nk"))
        self.notifier.kill()
        came, recorded = self.after_kill(told)
        self.notifier.start()
        # A second copy only of what came before the kill and was not recorded
        allowed = {address for address in came
                   if notice_id(told[address]["id"]) not in recorded}
        self.assertEveryMailOnce(told, allowed)
        self.assertAllSent(told)

    def test_notifier_killed_while_delivering(self):
        """Killed when the first e-mail of a batch has arrived: the rest of
        the batch is at the SMTP server or waiting; everything arrives."""
        session = self.open_session("Notifier stirbt beim Senden", capacity=10)
        told = self.register_all(self.people(session["id"], 120, "nd"))
        self.assertTrue(harness.wait_until(
            lambda: any(m.rcpt_tos[0] in told for m in self.mail.received()), 30, interval=0.002))
        self.notifier.kill()
        came, recorded = self.after_kill(told)
        self.assertLess(len(came), len(told), "everything came before the kill: nothing tested")
        self.notifier.start()
        allowed = {address for address in came
                   if notice_id(told[address]["id"]) not in recorded}
        self.assertEveryMailOnce(told, allowed)
        self.assertAllSent(told)

    def after_kill(self, told):
        """What had come to the people in told, and the notices recorded as
        sent, when the notifier died. (A message whose data the notifier had
        sent before it died may still be on its way into the SMTP server's
        store: that is given a moment.)"""
        harness.wait_until(lambda: False, 0.5)
        came = {mail.rcpt_tos[0] for mail in self.mail.received() if mail.rcpt_tos[0] in told}
        return came, self.sent_notices()

    def assertAllSent(self, told):
        """The notifier's record says sent, for every registration's notice."""
        dealer = self.dealer(self.notifier.endpoint)
        for registration in told.values():
            reply = dealer.request("notice.get", {"id": notice_id(registration["id"])})
            self.assertEqual((reply.status, reply.body["notice"]["state"]), (200, "sent"), reply)


@unittest.skipUnless(harness.NOTIFIER_BUILT, NO_NOTIFIER)
class SmtpOutageTest(FaultCase):

    def test_deferred_mail_goes_out_when_the_relay_is_back(self):
        session = self.open_session("Relay weg", capacity=5)
        self.mail.stop()
        self.addCleanup(lambda: self.mail.controller or self.mail.start())
        told = self.register_all(self.people(session["id"], 20, "so"))
        dealer = self.dealer(self.notifier.endpoint)

        def states():
            found = collections.Counter()
            for registration in told.values():
                reply = dealer.request("notice.get", {"id": notice_id(registration["id"])})
                found[reply.body["notice"]["state"] if reply.status == 200 else reply.status] += 1
            return found

        # Every notice is tried and deferred while the relay is down
        self.assertTrue(harness.wait_until(lambda: states()["deferred"] == len(told), 20,
                                           interval=0.2), states())
        self.assertEqual(self.mail.count(), 0)
        self.mail.start()
        self.assertEveryMailOnce(told)
        for registration in told.values():
            reply = dealer.request("notice.get", {"id": notice_id(registration["id"])})
            notice = reply.body["notice"]
            self.assertEqual(notice["state"], "sent", notice)
            attempts = notice["attempts"]
            self.assertGreaterEqual(len(attempts), 2, notice)
            self.assertEqual(attempts[0]["result"], "deferred", notice)
            self.assertEqual((attempts[-1]["result"], attempts[-1]["smtp"]), ("sent", 250), notice)


class RegistryKillTest(FaultCase):

    def test_outbox_survives_registry_kill(self):
        session = self.open_session("Registry stirbt", capacity=5)
        if self.notifier:
            self.notifier.stop()  # notices pile up in the registry's outbox
        told = self.register_all(self.people(session["id"], 15, "rk"))
        outbox = harness.registry_prefix(session["id"]) + "outbox:notifier"
        self.assertEqual(self.wait_for_depth("registry", "notifier", lambda d: d == 15, 5), 15)
        self.assertEqual(self.redis.command("LLEN", outbox), 15)
        # one entry per registration, its notice id derived from the registration
        entries = [json.loads(raw) for raw in self.redis.command("LRANGE", outbox, 0, -1)]
        self.assertEqual(sorted(entry["id"] for entry in entries),
                         sorted(notice_id(r["id"]) for r in told.values()))
        self.assertEqual({entry["command"] for entry in entries}, {"notice.send"})

        self.registry.kill()
        self.registry.start()
        # From its first answer on, status tells what the outbox holds (the
        # lists left from before the restart are counted before it answers)
        self.assertEqual(self.outbox_depth("registry", "notifier"), 15)
        code, out, err = self.schalt("status", SCHALT_CLI_TIMEOUT=1000)
        self.assertIn("notifier 15", harness.status_rows(out)["rows"]["registry"], out)
        self.assertEqual(self.redis.command("LLEN", outbox), 15)
        # what was registered is there, and served
        listed = self.registry_list(session["id"])
        self.assertEqual(len(listed["confirmed"]) + len(listed["waitlist"]), 15)
        if not self.notifier:
            harness.wait_until(lambda: False, 1.0)
            self.assertEqual(self.outbox_depth("registry", "notifier"), 15)
            return
        self.notifier.start()
        self.assertEveryMailOnce(told)
        self.assertEqual(self.redis.command("LLEN", outbox), 0)


class SchedulerKillTest(FaultCase):

    NOTIFIER = False

    def test_facts_survive_scheduler_kill(self):
        self.registry.stop()  # facts pile up in the scheduler's outbox
        event = self.create_event("Scheduler stirbt", "2027-03-13T09:00", "2027-03-13T17:00")
        session = self.create_session(event["id"], "Vorher", "C 1", "2027-03-13T10:00",
                                      "2027-03-13T11:00", 3)
        code, out, err = self.schalt("session", "update", session["id"], "--title", "Nachher")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.wait_for_depth("scheduler", "registry", lambda d: d == 2, 5), 2)

        self.scheduler.proc.kill()
        self.scheduler.proc.wait(harness.STOP_TIMEOUT)
        self.scheduler.start()
        self.assertEqual(self.outbox_depth("scheduler", "registry"), 2)
        self.registry.start()
        # the registry learns the session as it is now, and people can register
        listed = self.wait_for_facts(session["id"],
                                     lambda listed: listed["session"]["title"] == "Nachher")
        self.assertEqual(listed["session"]["capacity"], 3)
        code, out, err = self.schalt("register", "--session", session["id"], "--name",
                                     "Olaf Peters", "--email", "olaf@example.org")
        self.assertEqual((code, err), (0, ""))
        self.assertRegex(out, r"^confirmed \(registration reg-")
        self.assertEqual(self.wait_for_depth("scheduler", "registry", lambda d: d == 0, 10), 0)


class RedisKillTest(FaultCase):
    """kill -9 of Redis in the middle of a burst of registrations."""

    PEOPLE = 500
    CLIENTS = 20
    KILL_AFTER = 200
    CAPACITY = 100

    def test_redis_killed_during_burst(self):
        session = self.open_session("Redis stirbt", capacity=self.CAPACITY)
        session_id = session["id"]
        bodies = self.people(session_id, self.PEOPLE, "rd")
        lock = threading.Lock()
        acked = []  # outcomes with a 2xx reply, in the order they came
        down = threading.Event()

        def on_reply(outcome):
            # called in the client's thread: Redis dies at once, mid-burst
            with lock:
                if 200 <= outcome.reply.status < 300:
                    acked.append((outcome, down.is_set()))
                if len(acked) >= self.KILL_AFTER and not down.is_set():
                    self.redis.kill()
                    down.set()

        results = []
        burst = threading.Thread(target=lambda: results.append(harness.burst(
            self.context, self.registry.endpoint, "registration.create", bodies, self.CLIENTS,
            on_reply=on_reply, timeout=2.0, deadline=120.0)))
        burst.start()
        self.addCleanup(burst.join, 130)
        self.assertTrue(down.wait(30), "no %d acknowledgements" % self.KILL_AFTER)
        self.addCleanup(lambda: self.redis.started() or self.redis.start(self.redis.port))
        with lock:
            before_kill = [outcome for outcome, late in acked if not late]
        # Meanwhile clients are refused (503) or unanswered, and retry
        harness.wait_until(lambda: False, 1.0)
        self.redis.start(self.redis.port)
        burst.join(130)
        self.assertFalse(burst.is_alive(), "the clients did not finish")
        outcomes = results[0]

        # Every client ends with one answer: its registration, once
        self.assertEqual([o.body["email"] for o in outcomes if o.reply is None], [])
        self.assertEqual(collections.Counter(o.reply.status for o in outcomes),
                         {201: self.PEOPLE}, [o.reply for o in outcomes if o.reply.status != 201])
        retried = [o for o in outcomes if o.retried]
        self.assertGreater(len(retried), 0, "no client saw the outage: the test proved nothing")
        self.assertGreaterEqual(len(before_kill), self.KILL_AFTER)

        # Every acknowledged registration (before the kill or after) is stored as told
        prefix = harness.registry_prefix(session_id)
        stored = {}
        for key in self.redis.keys(prefix + "registration:*"):
            stored[key[len(prefix + "registration:"):]] = self.redis.hash(key)
        told = {o.body["email"]: o.reply.body["registration"] for o in outcomes}
        for outcome in before_kill:
            registration = outcome.reply.body["registration"]
            self.assertIn(registration["id"], stored, "acknowledged, then lost: %r" % registration)
        for address, registration in told.items():
            self.assertEqual(stored[registration["id"]]["email"], address)
            self.assertEqual(stored[registration["id"]]["status"], registration["status"])
        self.assertEqual(len(stored), self.PEOPLE, "a registration nobody was told of")

        # Nothing half-written: each registration in exactly one list and the index
        def members(name):
            return [m.decode() for m in
                    self.redis.command("ZRANGE", harness.session_key(session_id, name), 0, -1)]
        confirmed, waitlist = members("confirmed"), members("waitlist")
        flat = self.redis.command("HGETALL", harness.session_key(session_id, "emails"))
        emails = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
        for registration_id, registration in stored.items():
            places = (confirmed.count(registration_id), waitlist.count(registration_id))
            self.assertEqual(places, (1, 0) if registration["status"] == "confirmed" else (0, 1),
                             registration_id)
            self.assertEqual(emails.get(registration["email"].lower()), registration_id)
        self.assertEqual(set(confirmed) | set(waitlist), set(stored))
        self.assertEqual(set(emails.values()), set(stored))
        confirmed_hashes = [r for r in stored.values() if r["status"] == "confirmed"]
        self.assertEqual(len(confirmed), len(confirmed_hashes))
        self.assertLessEqual(len(confirmed), self.CAPACITY)
        self.assertEqual(len(confirmed), self.CAPACITY)  # 500 people for 100 seats
        listed = self.registry_list(session_id)
        self.assertEqual([r["position"] for r in listed["waitlist"]],
                         list(range(1, self.PEOPLE - self.CAPACITY + 1)))

        # Every registration has its notice: in the outbox, or at the notifier
        outbox = [json.loads(raw)["id"] for raw in
                  self.redis.command("LRANGE", prefix + "outbox:notifier", 0, -1)]
        expected = sorted(notice_id(registration_id) for registration_id in stored)
        if not self.notifier:
            self.assertEqual(sorted(outbox), expected)
            return
        self.assertEqual(len(outbox), len(set(outbox)))
        self.assertEveryMailOnce({address: registration for address, registration in told.items()})
        dealer = self.dealer(self.notifier.endpoint)
        for notice in expected:
            reply = dealer.request("notice.get", {"id": notice})
            self.assertEqual((reply.status, reply.body["notice"]["state"]), (200, "sent"), reply)


if __name__ == "__main__":
    unittest.main()
