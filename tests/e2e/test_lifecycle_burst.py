"""test_lifecycle_burst - registrations' lives under load: cancellations that
promote while newcomers register, and a crowd booking several sessions at
once. Many clients at the same time, each its own DEALER (harness.burst);
every e-mail is read back from the SMTP server and parsed strictly.
"""

import collections
import random
import threading

import harness
from test_registration import NO_NOTIFIER, RegistrationCase


def subjects_to(mails):
    """address -> the subjects of the messages it got, in arrival order;
    each message parsed strictly (a defect fails the test)."""
    found = collections.defaultdict(list)
    for mail in mails:
        message = mail.parse()
        if list(message.defects):
            raise AssertionError("defects in a message to %s: %r" % (mail.rcpt_tos,
                                                                     message.defects))
        found[mail.rcpt_tos[0]].append(str(message["Subject"]))
    return found


class CancelBurstTest(RegistrationCase):
    """200 people hold the 100 seats and the waitlist of a session; 60 of the
    seated cancel while 150 newcomers register, from 30 clients at once."""

    def setUp(self):
        if self.notifier is None:
            self.skipTest(NO_NOTIFIER)

    def test_cancellations_and_newcomers_at_once(self):
        session = self.open_session("Andrang und Absagen", capacity=100)
        first = [{"session": session["id"], "name": "Person %03d" % n,
                  "email": "p%03d@story.example" % n} for n in range(200)]
        # in order, so that arrival order is known: 0-99 seated, 100-199 waiting
        held = harness.burst(self.context, self.registry.endpoint, "registration.create", first, 1)
        ids = [outcome.reply.body["registration"]["id"] for outcome in held]
        self.assertEqual([o.reply.body["registration"]["status"] for o in held],
                         ["confirmed"] * 100 + ["waitlisted"] * 100)
        self.assertEqual(self.mail.wait_for(200, 120), 200)

        leaving = sorted(random.Random(7).sample(range(100), 60))
        newcomers = [{"session": session["id"], "name": "Neu %03d" % n,
                      "email": "n%03d@story.example" % n} for n in range(150)]
        results = {}

        def run(name, command, bodies, clients):
            results[name] = harness.burst(self.context, self.registry.endpoint, command, bodies,
                                          clients)
        threads = [threading.Thread(target=run, args=("cancel", "registration.cancel",
                                                      [{"id": ids[n]} for n in leaving], 10)),
                   threading.Thread(target=run, args=("create", "registration.create",
                                                      newcomers, 20))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(collections.Counter(o.reply.status for o in results["cancel"]),
                         {200: 60})
        self.assertEqual(collections.Counter(o.reply.status for o in results["create"]),
                         {201: 150})
        self.assertEqual({o.reply.body["registration"]["status"] for o in results["create"]},
                         {"waitlisted"})  # the waitlist never emptied: nobody passed it

        # Exactly 100 seated: those who stayed and the first 60 who waited, in order
        listed = self.registry_list(session["id"])
        stayed = [ids[n] for n in range(100) if n not in leaving]
        self.assertEqual(sorted(r["id"] for r in listed["confirmed"]), sorted(stayed + ids[100:160]))
        promoted = [i for o in results["cancel"] for i in o.reply.body["promoted"]]
        self.assertEqual(sorted(promoted), sorted(ids[100:160]))
        self.assertEqual([r["id"] for r in listed["confirmed"]][-60:], ids[100:160])
        # The waitlist: the 40 still waiting in their order, then the newcomers, 1..n
        waitlist = [r["id"] for r in listed["waitlist"]]
        self.assertEqual(waitlist[:40], ids[160:200])
        self.assertEqual(sorted(waitlist[40:]),
                         sorted(o.reply.body["registration"]["id"] for o in results["create"]))
        self.assertEqual([r["position"] for r in listed["waitlist"]], list(range(1, 191)))
        cancelled = {ids[n] for n in leaving}
        self.assertFalse(cancelled & set(r["id"] for r in listed["confirmed"] + listed["waitlist"]))

        # Every person got exactly the e-mails of their story, mail by mail
        expected = {}
        for n in range(200):
            address = "p%03d@story.example" % n
            if n < 100:
                expected[address] = ["Anmeldebestätigung"] + (["Ihre Anmeldung wurde storniert"]
                                                              if n in leaving else [])
            else:
                expected[address] = ["Warteliste"] + (["Platz frei geworden"] if n < 160 else [])
        for n in range(150):
            expected["n%03d@story.example" % n] = ["Warteliste"]
        total = sum(len(kinds) for kinds in expected.values())
        self.assertEqual(self.mail.wait_for(total, 120), total)
        self.assertTrue(harness.wait_until(
            lambda: self.registry.outbox("notifier")["depth"] == 0, 30))
        got = subjects_to(self.mail.received())
        self.assertEqual(set(got), set(expected))
        for address, kinds in expected.items():
            self.assertEqual(len(got[address]), len(kinds), (address, got[address]))
            for kind, subject in zip(kinds, got[address]):
                self.assertTrue(subject.startswith(kind), (address, got[address]))


class SeveralSessionsBurstTest(RegistrationCase):
    """1,000 people each book 3 of the 10 sessions of one event (five time
    slots of two parallel sessions, 150 seats each) from 40 clients."""

    PEOPLE = 1000

    def setUp(self):
        if self.notifier is None:
            self.skipTest(NO_NOTIFIER)

    def test_no_overbooking_no_overlap_one_mail_each(self):
        event = self.create_event("Tag der Bildung 2027", "2027-03-13T09:00", "2027-03-13T17:00")
        sessions = []
        for slot in range(5):
            for parallel in range(2):
                session = self.create_session(
                    event["id"], "Forum %d%s" % (slot + 1, "ab"[parallel]),
                    "R %d%s" % (slot + 1, "ab"[parallel]), "2027-03-13T%02d:00" % (10 + slot),
                    "2027-03-13T%02d:50" % (10 + slot), 150)
                sessions.append(session)
        for session in sessions:
            self.wait_for_facts(session["id"], lambda listed: True)
        chooser = random.Random(11)
        people = [{"sessions": [s["id"] for s in chooser.sample(sessions, 3)],
                   "name": "Gast %04d" % n, "email": "g%04d@crowd.example" % n}
                  for n in range(self.PEOPLE)]
        outcomes = harness.burst(self.context, self.registry.endpoint, "registration.create",
                                 people, 40, deadline=240)
        statuses = collections.Counter(o.reply.status for o in outcomes)
        slot = {s["id"]: index // 2 for index, s in enumerate(sessions)}
        for outcome in outcomes:
            chosen = [slot[id] for id in outcome.body["sessions"]]
            clash = len(set(chosen)) < 3
            self.assertEqual(outcome.reply.status, 409 if clash else 201, outcome.reply)
            if clash:
                self.assertEqual(outcome.reply.error["code"], "sessions_overlap")
        print("\n    booked: %d, refused for an overlap: %d" % (statuses[201], statuses[409]))
        self.assertGreater(statuses[201], 500, statuses)
        self.assertGreater(statuses[409], 50, statuses)

        # No session over capacity; nobody in two sessions at once
        by_person = collections.defaultdict(list)
        for session in sessions:
            listed = self.registry_list(session["id"])
            self.assertLessEqual(len(listed["confirmed"]), 150)
            held = listed["confirmed"] + listed["waitlist"]
            if len(held) > 150:
                self.assertEqual(len(listed["confirmed"]), 150)
            for registration in held:
                by_person[registration["email"]].append(slot[session["id"]])
        for address, slots in by_person.items():
            self.assertEqual(len(slots), len(set(slots)), address)
            self.assertEqual(len(slots), 3, address)
        booked = {o.body["email"] for o in outcomes if o.reply.status == 201}
        self.assertEqual(set(by_person), booked)

        # One e-mail each for those who booked, none for those refused
        self.assertEqual(self.mail.wait_for(len(booked), 180), len(booked))
        self.assertTrue(harness.wait_until(
            lambda: self.registry.outbox("notifier")["depth"] == 0, 30))
        got = subjects_to(self.mail.received())
        self.assertEqual(set(got), booked)
        self.assertEqual({len(subjects) for subjects in got.values()}, {1})
        self.assertEqual({subjects[0] for subjects in got.values()},
                         {"Ihre Anmeldungen: Tag der Bildung 2027"})
