"""test_lifecycle - what happens to a registration after it is made: the
person cancels with the link in their e-mail, or the office cancels it; the
freed seat goes to the first on the waitlist in the same step; a waitlisted
person leaves the waitlist; a raised capacity promotes, a lowered one takes
no seat away; and every link's token is checked.

Real daemons, a real Redis and a real SMTP server (harness.py). The links
are taken from the e-mails as a person would click them; the registry's
clock is moved with clock.set (its configuration is a test configuration),
never by waiting.
"""

import datetime
import os
import re
import time

import harness
from test_registration import MAIL_TIMEOUT, NO_NOTIFIER, RegistrationCase

LINK = re.compile(r"http://127\.0\.0\.1:8080/registration/(cancel|decline|accept)\?token="
                  r"([A-Za-z0-9_-]+)")
BERLIN = datetime.timezone(datetime.timedelta(hours=1))  # March 2027 is winter time


class LifecycleCase(RegistrationCase):
    REGISTRY_ENV = {"SCHALT_SCHALTSTELLE_TEST_CLOCK": "settable"}

    def setUp(self):
        if self.notifier is None:
            self.skipTest(NO_NOTIFIER)
        # Every test starts on the real clock
        self.set_clock(self.registry, datetime.datetime.now(datetime.timezone.utc))

    def mail_of(self, address, template_word, count):
        """The one message to address whose subject has template_word, after
        waiting until address has count messages; parsed strictly."""
        mails = self.mails_to(address, count)
        self.assertEqual(len(mails), count, [m.parse()["Subject"] for m in mails])
        found = [m.parse() for m in mails if template_word in str(m.parse()["Subject"])]
        self.assertEqual(len(found), 1, [str(m.parse()["Subject"]) for m in mails])
        self.assertCleanMail(found[0])
        return found[0]

    def settle(self):
        """Waits until every notice made so far has left the registry's
        outbox and the notifier has sent it: then a count of e-mails is
        final, and an extra one would show."""
        def quiet():
            outbox = self.registry.outbox("notifier") or {}
            status = self.notifier.status() or {}
            notices = status.get("notices") or {}
            return outbox.get("depth") == 0 and not outbox.get("in_flight") and \
                notices.get("queued", 1) == 0 and notices.get("sending", 1) == 0 and \
                status.get("delivery", {}).get("in_flight", 1) == 0

        def quiet_twice():  # the notifier's counts are of its last tick (200 ms)
            if not quiet():
                return False
            time.sleep(0.5)
            return quiet()
        self.assertTrue(harness.wait_until(quiet_twice, MAIL_TIMEOUT, interval=0.1),
                        (self.registry.outbox("notifier"), self.notifier.status()))

    def count_to(self, address):
        """How many e-mails address got, once everything is sent."""
        self.settle()
        return len([m for m in self.mail.received() if m.rcpt_tos == [address]])

    def links(self, message):
        """{action: token} of the links in the message's text."""
        return {action: token for action, token in LINK.findall(message.text())}

    def register_all(self, session_id, people):
        """Registers (name, address) pairs in order; returns their replies."""
        return [self.register_json(session_id, name, address) for name, address in people]

    def cancel(self, *args):
        return self.schalt("registration", "cancel", *args)

    def listed(self, session_id):
        listed = self.registry_list(session_id)
        return ([r["email"] for r in listed["confirmed"]],
                [(r["email"], r["position"]) for r in listed["waitlist"]])


class CancelTest(LifecycleCase):

    def test_cancel_by_link_promotes_the_first_waiting(self):
        session = self.open_session("Sprachförderung", capacity=2)
        people = [("Anna Acker", "anna@cancel.example"), ("Bernd Bach", "bernd@cancel.example"),
                  ("Clara Cramer", "clara@cancel.example"), ("Dora Dahl", "dora@cancel.example")]
        self.register_all(session["id"], people)
        confirmation = self.mail_of("anna@cancel.example", "Anmeldebestätigung", 1)
        links = self.links(confirmation)
        self.assertEqual(list(links), ["cancel"], confirmation.text())
        waiting = self.mail_of("clara@cancel.example", "Warteliste", 1)
        self.assertEqual(list(self.links(waiting)), ["decline"])

        # Anna clicks her link (pasted whole): her seat goes to Clara, the first waiting
        code, out, err = self.cancel(
            "--token", "http://127.0.0.1:8080/registration/cancel?token=" + links["cancel"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^cancelled \(registration reg-\S+\)\npromoted from the waitlist: "
                              r"reg-\S+\n$")
        self.assertEqual(self.listed(session["id"]),
                         (["bernd@cancel.example", "clara@cancel.example"],
                          [("dora@cancel.example", 1)]))

        # The e-mails their stories call for, and no others
        cancelled = self.mail_of("anna@cancel.example", "Abmeldung bestätigt", 2)
        self.assertIn("Sprachförderung", cancelled.text())
        self.assertNotIn("Anmerkung", cancelled.text())  # no reason was given
        self.assertEqual(self.links(cancelled), {})
        promoted = self.mail_of("clara@cancel.example", "Platz frei geworden", 2)
        self.assertIn("Ihre Anmeldung ist\r\nbestätigt", promoted.text())
        self.assertEqual(list(self.links(promoted)), ["cancel"])
        self.assertEqual(self.count_to("dora@cancel.example"), 1)
        self.assertEqual(self.count_to("bernd@cancel.example"), 1)

        # The registration stays, ended, with who and when
        anna = self.stored(session["id"])
        anna = [r for r in anna.values() if r["email"] == "anna@cancel.example"][0]
        self.assertEqual((anna["status"], anna["ended_by"], anna["late"]),
                         ("cancelled", "participant", "0"))
        ended = datetime.datetime.fromisoformat(anna["ended"].replace("Z", "+00:00"))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - ended).total_seconds()), 60, anna["ended"])

        # Twice is refused, and changes nothing
        before = self.registry_state(session["id"])
        code, out, err = self.cancel("--token", links["cancel"])
        self.assertRefused((code, out, err), 409, "already_ended", "/token", "--token")
        self.assertEqual(self.registry_state(session["id"]), before)

        # Clara's new link cancels her seat; Dora moves up
        code, out, err = self.cancel("--token", self.links(promoted)["cancel"])
        self.assertEqual(code, 0, err)
        self.assertEqual(self.listed(session["id"]),
                         (["bernd@cancel.example", "dora@cancel.example"], []))
        self.mail_of("dora@cancel.example", "Platz frei geworden", 2)

    def test_organiser_cancels_with_a_reason_even_after_the_deadline(self):
        session = self.open_session("Elternabend", capacity=1,
                                    more=["--cancel-until", "2027-03-12T12:00"])
        self.assertEqual(session["cancel_until"], "2027-03-12T11:00:00Z")
        people = [("Emil Ernst", "emil@late.example"), ("Frida Fink", "frida@late.example")]
        emil, frida = self.register_all(session["id"], people)
        token = self.links(self.mail_of("emil@late.example", "Anmeldebestätigung", 1))["cancel"]

        # After the deadline the person's link is refused, changing nothing
        self.set_clock(self.registry, datetime.datetime(2027, 3, 12, 12, 30, tzinfo=BERLIN))
        before = self.registry_state(session["id"])
        result = self.cancel("--token", token)
        self.assertRefused(result, 409, "deadline_passed", "/token", "--token")
        self.assertIn("ended at 2027-03-12 12:00;", result[2])  # shown in local time
        self.assertEqual(self.registry_state(session["id"]), before)

        # The office still may: a late cancellation, with its reason in the e-mail
        code, out, err = self.cancel(emil["id"], "--reason", "Kurs in der Nachbarstadt belegt")
        self.assertEqual(code, 0, err)
        self.assertIn("after the deadline", out)
        code, got, err = self.schalt_json("registration", "cancel", frida["id"])
        self.assertEqual(code, 0, err)
        self.assertEqual(got["status"], "cancelled")  # Frida was promoted, then cancelled
        message = self.mail_of("emil@late.example", "Ihre Anmeldung wurde storniert", 2)
        self.assertIn("das Bildungsbüro hat Ihre Anmeldung", message.text())
        self.assertIn("Grund: Kurs in der Nachbarstadt belegt", message.text())
        stored = {r["email"]: r for r in self.stored(session["id"]).values()}
        self.assertEqual((stored["emil@late.example"]["ended_by"],
                          stored["emil@late.example"]["late"]), ("organiser", "1"))

    def test_nothing_can_be_cancelled_once_the_session_began(self):
        session = self.open_session("Schon begonnen", capacity=1)
        (anna,) = self.register_all(session["id"], [("Anna", "anna@begun.example")])
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 10, 1, tzinfo=BERLIN))
        before = self.registry_state(session["id"])
        self.assertRefused(self.cancel(anna["id"]), 409, "session_past", "/id", "the registration ID")
        self.assertEqual(self.registry_state(session["id"]), before)

    def test_leaving_the_waitlist_keeps_positions_without_gaps(self):
        session = self.open_session("Warteschlange", capacity=1)
        people = [("Gustav", "gustav@leave.example"), ("Hanna", "hanna@leave.example"),
                  ("Ida", "ida@leave.example"), ("Jan", "jan@leave.example")]
        self.register_all(session["id"], people)
        hanna = self.links(self.mail_of("hanna@leave.example", "Warteliste", 1))
        code, out, err = self.schalt("registration", "decline", "--token", hanna["decline"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^left \(registration reg-\S+\)\n$")
        self.assertEqual(self.listed(session["id"]),
                         (["gustav@leave.example"],
                          [("ida@leave.example", 1), ("jan@leave.example", 2)]))
        left = self.mail_of("hanna@leave.example", "Von der Warteliste genommen", 2)
        self.assertEqual(self.links(left), {})
        # A seat that frees up now skips her: she left
        gustav = self.links(self.mail_of("gustav@leave.example", "Anmeldebestätigung", 1))
        self.assertEqual(self.cancel("--token", gustav["cancel"])[0], 0)
        self.assertEqual(self.listed(session["id"]),
                         (["ida@leave.example"], [("jan@leave.example", 1)]))
        # She may register again, as a newcomer at the end of the line
        again = self.register_json(session["id"], "Hanna", "hanna@leave.example")
        self.assertEqual((again["status"], again["position"]), ("waitlisted", 2))
        # Ida holds a seat now: her old waitlist link is refused
        ida = self.links(self.mail_of("ida@leave.example", "Warteliste", 2))
        result = self.schalt("registration", "decline", "--token", ida["decline"])
        self.assertRefused(result, 409, "holds_seat", "/token", "--token")


class CapacityTest(LifecycleCase):

    def test_raised_capacity_promotes_and_lowered_takes_no_seat(self):
        session = self.open_session("Mehr Plätze", capacity=1)
        people = [("Kai", "kai@cap.example"), ("Lea", "lea@cap.example"),
                  ("Max", "max@cap.example"), ("Nia", "nia@cap.example")]
        kai, lea, max_, nia = self.register_all(session["id"], people)
        self.assertEqual(self.schalt("session", "update", session["id"], "--capacity", "3")[0], 0)
        self.wait_for_facts(session["id"], lambda listed: listed["session"]["capacity"] == 3)
        self.assertEqual(self.listed(session["id"]),
                         (["kai@cap.example", "lea@cap.example", "max@cap.example"],
                          [("nia@cap.example", 1)]))
        self.mail_of("lea@cap.example", "Platz frei geworden", 2)
        self.mail_of("max@cap.example", "Platz frei geworden", 2)

        # Lowered below the confirmed count: nobody loses a seat, nobody new
        # gets one until the count is below it
        self.assertEqual(self.schalt("session", "update", session["id"], "--capacity", "1")[0], 0)
        self.wait_for_facts(session["id"], lambda listed: listed["session"]["capacity"] == 1)
        code, out, err = self.schalt("registrations", "--session", session["id"])
        self.assertIn("Mehr Plätze: 3 of 1 seats taken, 1 waiting\nover-full by 2", out)
        code, out, err = self.schalt("status")
        self.assertIn("over-full (a capacity lowered below the seats taken): %s" % session["id"],
                      out)
        self.assertEqual(self.cancel(kai["id"])[0], 0)
        self.assertEqual(self.listed(session["id"]),
                         (["lea@cap.example", "max@cap.example"], [("nia@cap.example", 1)]))
        self.assertEqual(self.count_to("nia@cap.example"), 1)
        # down to the capacity: no longer over-full
        self.assertEqual(self.cancel(lea["id"])[0], 0)
        self.assertNotIn("over-full", self.schalt("status")[1])
        self.assertEqual(self.listed(session["id"]),
                         (["max@cap.example"], [("nia@cap.example", 1)]))

    def test_no_promotion_once_the_session_began(self):
        session = self.open_session("Begonnen", capacity=1)
        self.register_all(session["id"], [("Olga", "olga@began.example"),
                                          ("Paul", "paul@began.example")])
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 10, 5, tzinfo=BERLIN))
        self.assertEqual(self.schalt("session", "update", session["id"], "--capacity", "2")[0], 0)
        self.wait_for_facts(session["id"], lambda listed: listed["session"]["capacity"] == 2)
        self.assertEqual(self.listed(session["id"]),
                         (["olga@began.example"], [("paul@began.example", 1)]))


class TokenTest(LifecycleCase):
    """Every bad token is refused with a clear error naming /token, and
    changes nothing."""

    def test_bad_tokens(self):
        session = self.open_session("Tokens", capacity=1)
        people = [("Quirin", "quirin@token.example"), ("Rosa", "rosa@token.example")]
        quirin, rosa = self.register_all(session["id"], people)
        cancel = self.links(self.mail_of("quirin@token.example", "Anmeldebestätigung", 1))["cancel"]
        decline = self.links(self.mail_of("rosa@token.example", "Warteliste", 1))["decline"]
        secret = self.scheduler.token_secret
        year_2100 = 4102444800
        flipped = bytearray(cancel.encode())
        flipped[20] = ord("A") if flipped[20] != ord("A") else ord("B")
        unknown = harness.make_token(1, secret, "cancel", "reg-" + quirin["id"][4:14] + "-"
                                     + "0" * 10, year_2100)
        cases = [
            ("a changed character", ["cancel", "--token", flipped.decode()], 403, "token_invalid"),
            ("cut off", ["cancel", "--token", cancel[:-5]], 400, "invalid"),
            ("not base64url", ["cancel", "--token", "abc$def"], 400, "invalid"),
            ("not a token at all", ["cancel", "--token", "aGVsbG8"], 400, "invalid"),
            ("the waitlist link used to cancel", ["cancel", "--token", decline], 403,
             "token_wrong_action"),
            ("the cancel link used to decline", ["decline", "--token", cancel], 403,
             "token_wrong_action"),
            ("expired", ["cancel", "--token", harness.make_token(
                1, secret, "cancel", quirin["id"], 1700000000)], 410, "token_expired"),
            ("signed with a retired key", ["cancel", "--token", harness.make_token(
                2, os.urandom(32), "cancel", quirin["id"], year_2100)], 403, "token_invalid"),
            ("signed with the right key id but another secret", ["cancel", "--token",
             harness.make_token(1, os.urandom(32), "cancel", quirin["id"], year_2100)], 403,
             "token_invalid"),
            ("for a registration that does not exist", ["cancel", "--token", unknown], 404,
             "not_found"),
        ]
        before = self.registry_state(session["id"])
        for what, args, status, code in cases:
            with self.subTest(what):
                result = self.schalt("registration", *args)
                self.assertRefused(result, status, code, "/token", "--token")
                self.assertEqual(self.registry_state(session["id"]), before)
        # An id and a token together, or neither: which one is meant?
        result = self.cancel(quirin["id"], "--token", cancel)
        self.assertRefused(result, 400, "invalid", "/token", "--token")
        reply = self.registry_request("registration.cancel", {})
        self.assertEqual((reply.status, reply.error["field"]), (400, "/id"), reply)
        self.assertEqual(self.registry_state(session["id"]), before)
        self.assertEqual(self.count_to("quirin@token.example"), 1)
        # A person's link carries no note of the office's
        result = self.cancel("--token", cancel, "--reason", "Bitte sofort!")
        self.assertRefused(result, 400, "invalid", "/reason", "--reason")
        self.assertEqual(self.registry_state(session["id"]), before)
        # The good token still works; a retry of that request after the
        # token expired gets the first answer, not a refusal (rule 5)
        request_id = harness.new_request_id()
        first = self.registry_request("registration.cancel", {"token": cancel}, request_id)
        self.assertEqual(first.status, 200, first)
        self.set_clock(self.registry, datetime.datetime(2027, 3, 14, tzinfo=BERLIN))
        again = self.registry_request("registration.cancel", {"token": cancel}, request_id)
        self.assertEqual((again.status, again.body), (first.status, first.body))
        fresh = self.registry_request("registration.cancel", {"token": cancel})
        self.assertEqual((fresh.status, fresh.error["code"]), (410, "token_expired"), fresh)


class OfferTest(LifecycleCase):
    """Promotion by offer: a freed seat is held for the first waiting, who
    accepts or declines with a link; the registry's own timer moves an
    offer that runs out along the waitlist."""

    def offer_session(self, title, hold_hours=48, capacity=1, start="2027-03-13T10:00",
                      end="2027-03-13T11:30"):
        return self.open_session(title, capacity=capacity, start=start, end=end,
                                 more=["--promotion", "offer", "--hold-hours", str(hold_hours)])

    def offer_links(self, address, count):
        message = self.mail_of(address, "Ein Platz für Sie", count)
        return message, self.links(message)

    def wait_status(self, session_id, address, status):
        def found():
            for registration in self.stored(session_id).values():
                if registration["email"] == address and registration["status"] == status:
                    return registration
            return None
        self.assertTrue(harness.wait_until(found, 10, interval=0.05),
                        (address, status, self.stored(session_id), self.registry.log_text()))
        return found()

    def test_offer_expires_and_moves_along_then_accepted(self):
        session = self.offer_session("Angebot", hold_hours=48)
        self.assertEqual(session["promotion"], "offer")
        people = [("Ana", "ana@offer.example"), ("Bob", "bob@offer.example"),
                  ("Cleo", "cleo@offer.example"), ("Dirk", "dirk@offer.example")]
        ana, bob, cleo, dirk = self.register_all(session["id"], people)
        self.set_clock(self.registry, datetime.datetime(2027, 3, 1, 9, 0, tzinfo=BERLIN))
        self.assertEqual(self.cancel(ana["id"])[0], 0)
        # Bob is offered the seat until 3 March, 09:00 (48 h); nobody else moves
        message, links = self.offer_links("bob@offer.example", 2)
        self.assertEqual(sorted(links), ["accept", "decline"])
        self.assertIn("bis Mittwoch, 3. März 2027, 09:00 Uhr", message.text())
        self.assertEqual(self.wait_status(session["id"], "bob@offer.example", "offered")
                         ["offer_until"], "2027-03-03T08:00:00Z")
        self.assertEqual(self.listed(session["id"]),
                         ([], [("cleo@offer.example", 1), ("dirk@offer.example", 2)]))
        # A newcomer waits behind them: the offered seat is taken
        self.assertEqual(self.register_json(session["id"], "Emil", "emil@offer.example")
                         ["status"], "waitlisted")

        # 49 hours later the registry's timer ends Bob's offer; Cleo is offered
        self.set_clock(self.registry, datetime.datetime(2027, 3, 3, 10, 0, tzinfo=BERLIN))
        self.wait_status(session["id"], "bob@offer.example", "expired")
        self.mail_of("bob@offer.example", "Angebot verfallen", 3)
        cleo_message, cleo_links = self.offer_links("cleo@offer.example", 2)
        self.assertIn("bis Freitag, 5. März 2027, 10:00 Uhr", cleo_message.text())
        # Bob's link is too late; Cleo takes the seat, once
        result = self.schalt("registration", "accept", "--token", links["accept"])
        self.assertRefused(result, 409, "offer_expired", "/token", "--token")
        code, out, err = self.schalt("registration", "accept", "--token", cleo_links["accept"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^confirmed \(registration reg-\S+\)\n$")
        before = self.registry_state(session["id"])
        result = self.schalt("registration", "accept", "--token", cleo_links["accept"])
        self.assertRefused(result, 409, "already_accepted", "/token", "--token")
        self.assertEqual(self.registry_state(session["id"]), before)
        confirmed = self.mail_of("cleo@offer.example", "Anmeldebestätigung", 3)
        self.assertEqual(list(self.links(confirmed)), ["cancel"])
        self.assertEqual(self.listed(session["id"]),
                         (["cleo@offer.example"], [("dirk@offer.example", 1),
                                                   ("emil@offer.example", 2)]))
        # Dirk, still waiting, cannot take a seat nobody offered him
        dirk_links = self.links(self.mail_of("dirk@offer.example", "Warteliste", 1))
        dirk_token = harness.make_token(1, self.scheduler.token_secret, "accept", dirk["id"],
                                        4102444800)
        result = self.schalt("registration", "accept", "--token", dirk_token)
        self.assertRefused(result, 409, "not_offered", "/token", "--token")
        self.assertEqual(list(dirk_links), ["decline"])

    def test_declined_offer_goes_to_the_next_at_once(self):
        session = self.offer_session("Abgelehnt")
        fred, gina, hans = self.register_all(session["id"], [
            ("Fred", "fred@offer.example"), ("Gina", "gina@offer.example"),
            ("Hans", "hans@offer.example")])
        self.assertEqual(self.cancel(fred["id"])[0], 0)
        links = self.offer_links("gina@offer.example", 2)[1]
        code, out, err = self.schalt("registration", "decline", "--token", links["decline"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^declined \(registration reg-\S+\)\npromoted from the waitlist: ")
        self.offer_links("hans@offer.example", 2)
        self.mail_of("gina@offer.example", "Von der Warteliste genommen", 3)
        result = self.schalt("registration", "accept", "--token", links["accept"])
        self.assertRefused(result, 409, "already_ended", "/token", "--token")

    def test_no_offer_once_the_session_began_and_none_past_its_start(self):
        session = self.offer_session("Bald", hold_hours=48)
        ines, jo, kim = self.register_all(session["id"], [
            ("Ines", "ines@offer.example"), ("Jo", "jo@offer.example"),
            ("Kim", "kim@offer.example")])
        # ten hours before the start: the offer is held until the start, not 48 h
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 0, 0, tzinfo=BERLIN))
        self.assertEqual(self.cancel(ines["id"])[0], 0)
        self.assertEqual(self.wait_status(session["id"], "jo@offer.example", "offered")
                         ["offer_until"], "2027-03-13T09:00:00Z")
        # the session begins: Jo's offer runs out, and no new one is made
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 10, 1, tzinfo=BERLIN))
        self.wait_status(session["id"], "jo@offer.example", "expired")
        self.settle()
        self.assertEqual(self.listed(session["id"]), ([], [("kim@offer.example", 1)]))
        self.assertEqual(self.count_to("kim@offer.example"), 1)

    def test_an_offer_in_a_cancelled_event_is_told_and_counted(self):
        session = self.offer_session("Mit Angebot", capacity=1)
        pia, quinn = self.register_all(session["id"], [("Pia", "pia@offer.example"),
                                                       ("Quinn", "quinn@offer.example")])
        self.assertEqual(self.cancel(pia["id"])[0], 0)
        self.wait_status(session["id"], "quinn@offer.example", "offered")
        code, got, err = self.schalt_json("attendance", "--session", session["id"])
        self.assertEqual((got["counts"]["offered"], got["counts"]["cancelled"]), (1, 1))
        self.assertEqual(self.schalt("event", "cancel", session["event"])[0], 0)
        message = self.mail_of("quinn@offer.example", "Abgesagt", 3)
        self.assertIn("Mit Angebot", message.text())
        self.assertEqual(self.wait_status(session["id"], "quinn@offer.example", "declined")
                         ["ended_by"], "session_cancelled")

    def test_offers_survive_a_registry_restart(self):
        session = self.offer_session("Neustart", hold_hours=1)
        lena, mo, nils = self.register_all(session["id"], [
            ("Lena", "lena@offer.example"), ("Mo", "mo@offer.example"),
            ("Nils", "nils@offer.example")])
        self.set_clock(self.registry, datetime.datetime(2027, 3, 10, 12, 0, tzinfo=BERLIN))
        self.assertEqual(self.cancel(lena["id"])[0], 0)
        self.wait_status(session["id"], "mo@offer.example", "offered")
        # a new registry process finds the due index by itself (and its clock, set again)
        self.registry.kill()
        self.registry.start()
        self.set_clock(self.registry, datetime.datetime(2027, 3, 10, 13, 30, tzinfo=BERLIN))
        self.wait_status(session["id"], "mo@offer.example", "expired")
        self.wait_status(session["id"], "nils@offer.example", "offered")


class AlertTest(LifecycleCase):

    def test_organiser_alerted_once_per_threshold_crossed(self):
        code, event, err = self.schalt_json(
            "event", "create", "--kind", "day-of-education", "--title", "Fachtag Alarm",
            "--start", "2027-03-13T09:00", "--end", "2027-03-13T17:00", "--place", "Rathaus",
            "--organiser-name", "Olga Organisatorin", "--organiser-email", "olga@office.example",
            "--waitlist-alert", "2")
        self.assertEqual(code, 0, err)
        self.assertEqual(event["organiser_email"], "olga@office.example")
        session = self.create_session(event["id"], "Beliebt", "B 1", "2027-03-13T10:00",
                                      "2027-03-13T11:00", 5)
        self.wait_for_facts(session["id"], lambda listed: True)

        def register(n):
            return self.register_json(session["id"], "Gast %d" % n, "g%d@alert.example" % n)

        def alerts():
            self.settle()
            return [str(m.parse()["Subject"]) for m in self.mail.received()
                    if m.rcpt_tos == ["olga@office.example"]]
        people = [register(n) for n in range(3)]
        self.assertEqual(alerts(), [])
        people.append(register(3))  # 4 of 5: 80 %
        self.assertEqual(len(alerts()), 1)
        people.append(register(4))  # 5 of 5: full
        got = self.mails_to("olga@office.example", 2)
        full = [m.parse() for m in got][-1]
        self.assertIn("Alle Plätze sind vergeben", full.text())
        self.assertIn("Belegt:        5 von 5 Plätzen", full.text())
        self.assertNotIn("Vier Fünftel", full.text())
        people += [register(n) for n in (5, 6)]  # waitlist 2: not past 2
        self.assertEqual(len(alerts()), 2)
        people.append(register(7))  # waitlist 3
        self.assertEqual(len(alerts()), 3)
        self.assertIn("Die Warteliste ist länger als 2",
                      [m.parse() for m in self.mail.received()
                       if m.rcpt_tos == ["olga@office.example"]][-1].text())
        people.append(register(8))  # still past it: no new alert
        self.assertEqual(len(alerts()), 3)
        # The waitlist shrinks below the limit (two leave), then grows past it again
        for n in (5, 6):
            leave = self.links(self.mail_of("g%d@alert.example" % n, "Warteliste", 1))["decline"]
            self.assertEqual(self.schalt("registration", "decline", "--token", leave)[0], 0)
        people += [register(n) for n in (9, 10)]
        self.assertEqual(len(alerts()), 4)


class SmallAlertTest(LifecycleCase):

    def test_one_seat_full_at_once_is_one_alert(self):
        code, event, err = self.schalt_json(
            "event", "create", "--kind", "counselling", "--title", "Beratung",
            "--start", "2027-03-13T09:00", "--end", "2027-03-13T17:00", "--place", "Rathaus",
            "--organiser-email", "berater@office.example")
        self.assertEqual(code, 0, err)
        session = self.create_session(event["id"], "Termin", "Z 1", "2027-03-13T10:00",
                                      "2027-03-13T10:45", 1)
        self.wait_for_facts(session["id"], lambda listed: True)
        self.register_json(session["id"], "Rita", "rita@small.example")
        self.assertEqual(self.count_to("berater@office.example"), 1)
        message = self.mail_of("berater@office.example", "Belegung", 1)
        self.assertIn("Alle Plätze sind vergeben", message.text())


class ChangesTest(LifecycleCase):
    """Session facts that move or cancel a session reach everyone in it, once."""

    def moved_mails(self, address, count):
        return [m.parse() for m in self.mails_to(address, count)
                if "Geändert:" in str(m.parse()["Subject"])
                or "Changed:" in str(m.parse()["Subject"])]

    def test_a_moved_session_reaches_everyone_once(self):
        session = self.open_session("Umzug", capacity=2, room="A 101")
        people = [("Sven", "sven@move.example"), ("Tina", "tina@move.example"),
                  ("Uwe", "uwe@move.example")]
        self.register_all(session["id"], people)
        self.register_json(session["id"], "Vera", "vera@move.example", "--lang", "en")
        code, out, err = self.schalt("session", "update", session["id"], "--start",
                                     "2027-03-13T14:00", "--end", "2027-03-13T15:30",
                                     "--room", "B 7")
        self.assertEqual(code, 0, err)
        for name, address in people:
            message = self.mail_of(address, "Geändert:", 2)
            text = message.text().replace("\r\n", "\n")
            self.assertIn("Bisher:        Samstag, 13. März 2027, 10:00 bis 11:30 Uhr\n"
                          "                 Rathaus Pulheim, Raum A 101", text)
            self.assertIn("Neu:           Samstag, 13. März 2027, 14:00 bis 15:30 Uhr\n"
                          "                 Rathaus Pulheim, Raum B 7", text)
            self.assertEqual(str(message["Subject"]),
                             "Geändert: Umzug – jetzt Samstag, 13. März 2027, 14:00 Uhr, Raum B 7")
            waiting = address == "uwe@move.example"
            self.assertEqual(list(self.links(message)), ["decline" if waiting else "cancel"])
            self.assertEqual("Warteliste, auf Platz 1" in text, waiting, text)
        english = self.mail_of("vera@move.example", "Changed:", 2)
        self.assertIn("Before:   Saturday, 13 March 2027, 10:00 to 11:30", english.text())

        # The same facts again (the outbox may deliver twice), or older ones: no second e-mail
        revision = int(self.redis.hash(harness.session_key(session["id"]))["revision"])
        stored = self.redis.hash(harness.session_key(session["id"]))
        again = {"revision": revision,
                 "session": {"id": session["id"], "title": stored["title"], "room": "B 7",
                             "start": stored["start"], "end": stored["end"], "capacity": 2,
                             "status": "scheduled", "promotion": "auto", "hold_hours": 48},
                 "event": {"id": stored["event"], "kind": stored["event_kind"],
                           "title": stored["event_title"], "place": stored["place"],
                           "status": "scheduled", "waitlist_alert": 10}}
        reply = self.registry_request("session.facts", again,
                                      "sf-%s-%d" % (session["id"], revision))
        self.assertEqual(reply.status, 200, reply)
        reply = self.registry_request("session.facts", again)
        self.assertEqual(reply.body["applied"], False, reply)
        # A new title is no move: nobody is e-mailed
        self.assertEqual(self.schalt("session", "update", session["id"], "--title", "Umzug!")[0], 0)
        self.wait_for_facts(session["id"], lambda listed: listed["session"]["title"] == "Umzug!")
        self.assertTrue(harness.wait_until(
            lambda: self.registry.outbox("notifier")["depth"] == 0, 30))
        for name, address in people:
            self.assertEqual(self.count_to(address), 2, address)

    def test_a_cancelled_session_ends_its_registrations(self):
        session = self.open_session("Fällt aus", capacity=1)
        self.register_all(session["id"], [("Willi", "willi@off.example"),
                                          ("Xenia", "xenia@off.example")])
        code, out, err = self.schalt("session", "cancel", session["id"], "--reason",
                                     "Die Referentin ist erkrankt.")
        self.assertEqual(code, 0, err)
        for address in ("willi@off.example", "xenia@off.example"):
            message = self.mail_of(address, "Abgesagt", 2)
            self.assertIn("Grund: Die Referentin ist erkrankt.", message.text())
            self.assertEqual(self.links(message), {})
        stored = {r["email"]: r for r in self.stored(session["id"]).values()}
        self.assertEqual({a: (r["status"], r["ended_by"]) for a, r in stored.items()},
                         {"willi@off.example": ("cancelled", "session_cancelled"),
                          "xenia@off.example": ("left", "session_cancelled")})
        self.assertEqual(self.listed(session["id"]), ([], []))
        self.assertRefused(self.register(session["id"], "Yara", "yara@off.example"), 409,
                           "session_cancelled", "/session")

    def test_a_cancelled_event_sends_one_mail_a_person(self):
        event = self.create_event("Fachtag Abgesagt", "2027-03-13T09:00", "2027-03-13T17:00",
                                  place="Rathaus Pulheim")
        sessions = [self.create_session(event["id"], "Teil %d" % n, "R %d" % n,
                                        "2027-03-13T%02d:00" % (9 + n), "2027-03-13T%02d:45"
                                        % (9 + n), 1) for n in (1, 2, 3)]
        for session in sessions:
            self.wait_for_facts(session["id"], lambda listed: True)
        for session in sessions[:2]:
            self.register_json(session["id"], "Zora Zimmer", "zora@event.example")
        self.register_json(sessions[2]["id"], "Albert", "albert@event.example")
        self.register_json(sessions[2]["id"], "Zora Zimmer", "ZORA@event.example")
        code, out, err = self.schalt("event", "cancel", event["id"], "--reason",
                                     "Das Rathaus ist gesperrt.")
        self.assertEqual(code, 0, err)
        for session in sessions:
            self.wait_for_facts(session["id"],
                                lambda listed: listed["session"]["status"] == "cancelled")
        self.assertTrue(harness.wait_until(
            lambda: self.registry.outbox("notifier")["depth"] == 0, 30))
        zora = self.mail_of("zora@event.example", "Abgesagt: Fachtag Abgesagt", 3)
        text = zora.text().replace("\r\n", "\n")
        self.assertIn("  Samstag, 13. März 2027, 10:00–10:45 Uhr: Teil 1, Raum R 1\n"
                      "  Samstag, 13. März 2027, 11:00–11:45 Uhr: Teil 2, Raum R 2\n", text)
        self.assertIn("Grund: Das Rathaus ist gesperrt.", text)
        # Addresses compare without case: ZORA@ is Zora, and her waitlist place is listed too
        self.assertIn("  Samstag, 13. März 2027, 12:00–12:45 Uhr: Teil 3, Raum R 3 (Warteliste, "
                      "Platz 1)\n", text)
        self.mail_of("albert@event.example", "Abgesagt: Fachtag Abgesagt", 2)
        # no e-mail per session on top
        self.assertEqual(self.count_to("zora@event.example"), 3)
        self.assertEqual(self.count_to("ZORA@event.example"), 1)

    def test_a_cancelled_event_leaves_sessions_that_are_over_alone(self):
        event = self.create_event("Fachtag Vorbei", "2027-03-13T09:00", "2027-03-13T17:00")
        long = self.create_session(event["id"], "Ganztags", "G 1", "2027-03-13T09:00",
                                   "2027-03-13T17:00", 5)
        short = self.create_session(event["id"], "Morgens", "M 1", "2027-03-13T10:00",
                                    "2027-03-13T11:00", 5)
        for session in (long, short):
            self.wait_for_facts(session["id"], lambda listed: True)
        self.register_json(long["id"], "Lore", "lore@over.example")
        self.register_json(short["id"], "Mats", "mats@over.example")
        # at noon the morning session is over; the all-day one is not
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 12, 0, tzinfo=BERLIN))
        self.assertEqual(self.schalt("event", "cancel", event["id"])[0], 0)
        for session in (long, short):
            self.wait_for_facts(session["id"],
                                lambda listed: listed["session"]["status"] == "cancelled")
        self.assertEqual(self.count_to("mats@over.example"), 1)  # his confirmation only
        message = self.mail_of("lore@over.example", "Abgesagt", 2)
        self.assertIn("Ganztags", message.text())
        stored = {(r["email"], r["session"]): r["status"] for r in
                  list(self.stored(long["id"]).values()) + list(self.stored(short["id"]).values())}
        self.assertEqual(stored[("mats@over.example", short["id"])], "confirmed")
        self.assertEqual(stored[("lore@over.example", long["id"])], "cancelled")

    def test_a_move_and_more_seats_at_once_send_one_mail_each(self):
        session = self.open_session("Größer und später", capacity=1)
        self.register_all(session["id"], [("Nele", "nele@both.example"),
                                          ("Omar", "omar@both.example")])
        code, out, err = self.schalt("session", "update", session["id"], "--capacity", "2",
                                     "--start", "2027-03-13T12:00", "--end", "2027-03-13T13:00")
        self.assertEqual(code, 0, err)
        promoted = self.mail_of("omar@both.example", "Platz frei geworden", 2)
        self.assertIn("12:00 bis 13:00 Uhr", promoted.text())  # the new time
        self.mail_of("nele@both.example", "Geändert:", 2)
        self.assertEqual(self.count_to("omar@both.example"), 2)


class FanOutKillTest(LifecycleCase):
    """A move reaches all 500 people of a session once, even though the
    registry is killed (kill -9) while its outbox hands the notices over."""

    PEOPLE = 500

    def moved_to(self):
        """address -> how many session-moved e-mails it got (each message
        parsed strictly, once)."""
        counts = {}
        for mail in self.mail.received():
            if not hasattr(mail, "subject"):
                message = mail.parse()
                self.assertCleanMail(message)
                mail.subject = str(message["Subject"])
            if "Geändert:" in mail.subject:
                counts[mail.rcpt_tos[0]] = counts.get(mail.rcpt_tos[0], 0) + 1
        return counts

    def test_move_reaches_everyone_once_across_a_registry_kill(self):
        session = self.open_session("Großer Saal", capacity=300)
        people = [{"session": session["id"], "name": "Person %03d" % n,
                   "email": "fan%03d@move.example" % n} for n in range(self.PEOPLE)]
        outcomes = harness.burst(self.context, self.registry.endpoint, "registration.create",
                                 people, 20)
        self.assertEqual({o.reply.status for o in outcomes}, {201})
        self.assertEqual(self.mail.wait_for(self.PEOPLE, 120), self.PEOPLE)

        # The notices of the move pile up while the notifier is away...
        self.notifier.stop()
        self.assertEqual(self.schalt("session", "update", session["id"], "--room", "Aula")[0], 0)
        self.assertTrue(harness.wait_until(
            lambda: (self.registry.outbox("notifier") or {}).get("depth") == self.PEOPLE, 30),
            self.registry.outbox("notifier"))
        # ...and the registry dies while it hands them over
        self.notifier.start()
        self.assertTrue(harness.wait_until(lambda: (self.registry.outbox("notifier") or {}).get(
            "depth", self.PEOPLE) < self.PEOPLE, 30, interval=0.002))
        self.registry.kill()
        left = int(self.redis.command("LLEN", harness.registry_prefix(session["id"])
                                      + "outbox:notifier"))
        print("\n    outbox at the kill: %d of %d notices not yet acknowledged"
              % (left, self.PEOPLE))
        self.assertGreater(left, 0, "the relay had finished: the kill was not in the middle")
        self.registry.start()
        self.assertTrue(harness.wait_until(lambda: len(self.moved_to()) == self.PEOPLE, 120,
                                           interval=0.5),
                        "%d of %d told" % (len(self.moved_to()), self.PEOPLE))
        self.assertTrue(harness.wait_until(
            lambda: self.registry.outbox("notifier")["depth"] == 0, 30))
        time.sleep(1.0)  # time for a duplicate to show, if there were one
        counts = self.moved_to()
        self.assertEqual(set(counts), {p["email"] for p in people})
        self.assertEqual(set(counts.values()), {1}, [a for a, n in counts.items() if n > 1])


class SeveralSessionsTest(LifecycleCase):
    """Several sessions of one event in one request: all or nothing, no two at once."""

    def day(self, title="Tag der Bildung 2027"):
        """An event with four sessions: 10-11 (A), 10:30-11:30 (B), 11-12 (C),
        12-13 (D); D has one seat."""
        event = self.create_event(title, "2027-03-13T09:00", "2027-03-13T17:00",
                                  place="Rathaus Pulheim")
        times = [("A", "10:00", "11:00", 5), ("B", "10:30", "11:30", 5), ("C", "11:00", "12:00", 5),
                 ("D", "12:00", "13:00", 1)]
        sessions = {}
        for name, start, end, capacity in times:
            sessions[name] = self.create_session(
                event["id"], "Forum " + name, name, "2027-03-13T" + start,
                "2027-03-13T" + end, capacity)
            self.wait_for_facts(sessions[name]["id"], lambda listed: True)
        return event, sessions

    def register_many(self, sessions, name, address, *more):
        args = ["register"]
        for session in sessions:
            args += ["--session", session["id"]]
        return self.schalt(*(args + ["--name", name, "--email", address] + list(more)))

    def test_two_at_once_in_one_mail(self):
        event, s = self.day()
        self.register_json(s["D"]["id"], "Erste", "erste@many.example")  # D is full now
        code, out, err = self.register_many([s["A"], s["D"]], "Mia Meier", "mia@many.example")
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"^%s: confirmed \(registration reg-\S+\)\n"
                              r"%s: waitlisted \(position 1, registration reg-\S+\)\n$"
                         % (s["A"]["id"], s["D"]["id"]))
        message = self.mail_of("mia@many.example", "Ihre Anmeldungen", 1)
        text = message.text().replace("\r\n", "\n")
        self.assertRegex(text, r"  Samstag, 13\. März 2027, 10:00–11:00 Uhr: Forum A, Raum A "
                               r"\(Platz reserviert\)\n"
                               r"    Code für den Einlass: [0-9A-Z]{3}-[0-9A-Z]{3}\n"
                               r"    Absagen: http://127\.0\.0\.1:8080/registration/cancel\?token="
                               r"[A-Za-z0-9_-]+\n"
                               r"  Samstag, 13\. März 2027, 12:00–13:00 Uhr: Forum D, Raum D "
                               r"\(Warteliste, Platz 1\)\n"
                               r"    Warteliste verlassen: http://127\.0\.0\.1:8080/registration/"
                               r"decline\?token=[A-Za-z0-9_-]+\n")
        # each link acts on its own registration
        links = LINK.findall(text)
        self.assertEqual([action for action, _ in links], ["cancel", "decline"])
        self.assertEqual(self.schalt("registration", "decline", "--token", links[1][1])[0], 0)
        self.assertEqual(self.listed(s["D"]["id"]), (["erste@many.example"], []))
        self.assertEqual(self.listed(s["A"]["id"]), (["mia@many.example"], []))
        # asking again for what she holds is "already registered", and sends nothing
        code, out, err = self.register_many([s["A"]], "Mia Meier", "MIA@many.example")
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith("already registered: confirmed"), out)

    def test_overlaps_are_refused_naming_both_and_book_nothing(self):
        event, s = self.day()
        before = self.registry_state(s["A"]["id"])
        result = self.register_many([s["A"], s["C"], s["B"]], "Ole", "ole@many.example")
        self.assertRefused(result, 409, "sessions_overlap", "/sessions/2", "--session")
        self.assertIn(s["A"]["id"], result[2])
        self.assertIn(s["B"]["id"], result[2])
        self.assertIn("Forum A", result[2])
        self.assertIn("Forum B", result[2])
        self.assertEqual(self.registry_state(s["A"]["id"]), before)
        self.assertNoNotice(s["A"]["id"], "ole@many.example")
        # A then C touch, but do not overlap (11:00 ends one, starts the other)
        self.assertEqual(self.register_many([s["A"], s["C"]], "Ole", "ole@many.example")[0], 0)
        # B overlaps both of those he holds now, seat or waitlist place alike
        before = self.registry_state(s["A"]["id"])
        result = self.register_many([s["B"]], "Ole", "OLE@many.example")
        self.assertRefused(result, 409, "sessions_overlap", "/session", "--session")
        self.assertIn("holds already", result[2])
        self.assertEqual(self.registry_state(s["A"]["id"]), before)
        # once he cancels A, B is free for him
        ole = {r["session"]: r for r in self.stored(s["A"]["id"]).values()}
        self.assertEqual(self.cancel(ole[s["A"]["id"]]["id"])[0], 0)
        result = self.register(s["B"]["id"], "Ole", "ole@many.example")
        self.assertRefused(result, 409, "sessions_overlap", "/session", "--session")  # C still
        self.assertIn(s["C"]["id"], result[2])

    def test_bad_lists_are_refused_and_book_nothing(self):
        event, s = self.day()
        other_event, t = self.day("Anderer Fachtag")
        before = self.registry_state(s["A"]["id"])
        fifty = [dict(s["A"], id=harness_made_session(s["A"]["id"], n)) for n in range(50)]
        cases = [
            ("two events", [s["A"], t["C"]], 400, "invalid", "/sessions/1"),
            ("the same session twice", [s["A"], s["C"], s["A"]], 400, "invalid", "/sessions/2"),
            ("fifty sessions", fifty, 400, "invalid", "/sessions"),
            ("a session that does not exist", [s["A"], {"id": harness_made_session(
                s["A"]["id"], 99)}], 404, "not_found", "/sessions/1"),
        ]
        for what, sessions, status, code, field in cases:
            with self.subTest(what):
                result = self.register_many(sessions, "Pia", "pia@many.example")
                self.assertRefused(result, status, code, field, "--session")
                self.assertEqual(self.registry_state(s["A"]["id"]), before)
        reply = self.registry_request("registration.create", {
            "session": s["A"]["id"], "sessions": [s["C"]["id"]], "name": "Pia",
            "email": "pia@many.example"})
        self.assertEqual((reply.status, reply.error["field"]), (400, "/sessions"), reply)
        self.assertEqual(self.registry_state(s["A"]["id"]), before)
        self.assertNoNotice(s["A"]["id"], "pia@many.example")


class CheckinTest(LifecycleCase):

    def test_checkin_once_and_the_counts(self):
        session = self.open_session("Einlass", capacity=3,
                                    more=["--cancel-until", "2027-03-12T18:00"])
        people = [("Ada", "ada@in.example"), ("Ben", "ben@in.example"),
                  ("Cem", "cem@in.example"), ("Dan", "dan@in.example"),
                  ("Eva", "eva@in.example")]
        ada, ben, cem, dan, eva = self.register_all(session["id"], people)
        text = self.mail_of("ada@in.example", "Anmeldebestätigung", 1).text()
        code = re.search(r"Ihr Code für den Einlass: ([0-9A-Z]{3}-[0-9A-Z]{3})", text).group(1)

        # by the code from the e-mail (typed in lower case, without the dash), and twice
        out = self.schalt("checkin", "--session", session["id"], "--code",
                          code.replace("-", "").lower())
        self.assertEqual(out[0], 0, out[2])
        self.assertIn("Ada, checked in", out[1])
        before = self.registry_state(session["id"])
        again = self.schalt("checkin", "--session", session["id"], ada["id"])
        self.assertEqual(again[0], 0, again[2])
        self.assertIn("(already then)", again[1])
        self.assertEqual(out[1].split(", checked in ")[1][:16], again[1].split(
            ", checked in ")[1][:16])
        self.assertEqual(self.registry_state(session["id"]), before)

        # what is refused, changing nothing
        nearby = self.create_session(session["event"], "Nebenan", "N 1", "2027-03-13T14:00",
                                     "2027-03-13T15:00", 1)  # of the same event
        self.wait_for_facts(nearby["id"], lambda listed: True)
        (nina,) = self.register_all(nearby["id"], [("Nina", "nina@in.example")])
        other = self.open_session("Anderswo", capacity=1)  # of another event
        (olaf,) = self.register_all(other["id"], [("Olaf", "olaf@in.example")])
        self.assertEqual(self.cancel(cem["id"])[0], 0)  # Dan is promoted
        cases = [
            (["--code", "ZZZ-ZZZ"], 404, "not_found", "/code", "--code"),
            (["--code", "ZZ"], 400, "invalid", "/code", "--code"),
            ([eva["id"]], 409, "not_confirmed", "/id", None),           # waitlisted
            ([cem["id"]], 409, "not_confirmed", "/id", None),           # cancelled
            ([nina["id"]], 409, "other_session", "/id", None),
            ([olaf["id"]], 404, "not_found", "/id", None),
        ]
        before = self.registry_state(session["id"])
        for args, status, error, field, option in cases:
            with self.subTest(args):
                result = self.schalt("checkin", "--session", session["id"], *args)
                self.assertRefused(result, status, error, field, option)
                self.assertEqual(self.registry_state(session["id"]), before)

        # Ben cancels late (the office does it), Dan comes, Eva still waits
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 9, 0, tzinfo=BERLIN))
        self.assertEqual(self.cancel(ben["id"])[0], 0)  # late: Eva gets his seat
        self.assertEqual(self.schalt("checkin", "--session", session["id"], dan["id"])[0], 0)
        code, got, err = self.schalt_json("attendance", "--session", session["id"])
        self.assertEqual(code, 0, err)
        self.assertEqual(got["counts"], {"confirmed": 3, "present": 2, "cancelled": 2,
                                         "cancelled_late": 1, "left": 0, "waitlisted": 0,
                                         "offered": 0, "declined": 0, "expired": 0,
                                         "no_shows": None})
        # after the end: Eva, who never came, is the one no-show
        self.set_clock(self.registry, datetime.datetime(2027, 3, 13, 12, 0, tzinfo=BERLIN))
        code, got, err = self.schalt_json("attendance", "--session", session["id"])
        self.assertEqual(got["counts"]["no_shows"], 1)
        self.assertEqual({r["email"]: r["attendance"] for r in got["registrations"]},
                         {"ada@in.example": "present", "ben@in.example": "cancelled_late",
                          "cem@in.example": "cancelled", "dan@in.example": "present",
                          "eva@in.example": "no_show"})
        code, out, err = self.schalt("attendance", "--session", session["id"])
        self.assertIn("Einlass: 3 confirmed, 2 present, 1 no-shows; 2 cancelled (1 late)", out)
        self.assertRegex(out, r"\n5 +no-show +Eva +eva@in\.example")
        csv_text = self.schalt_bytes("attendance", "--session", session["id"], "--csv")
        self.assertTrue(csv_text.startswith(b"\xef\xbb\xbf#;ATTENDANCE;NAME;"), csv_text[:40])


def harness_made_session(session_id, number):
    """A session id of the same event as session_id that nobody made."""
    return "%s-%s" % (session_id[:14], ("zz%08d" % number)[-10:])


class KeyRotationTest(LifecycleCase):
    """Two keys at once: the registry knows a new key and the old one; links
    the notifier still signs with the old key keep working."""

    new_secret = os.urandom(32)

    def test_old_and_new_key_are_both_accepted(self):
        session = self.open_session("Schlüsselwechsel", capacity=2)
        (tim, ute) = self.register_all(session["id"], [("Tim", "tim@keys.example"),
                                                       ("Ute", "ute@keys.example")])
        old_link = self.links(self.mail_of("tim@keys.example", "Anmeldebestätigung", 1))["cancel"]
        # the registry restarts with [new key, old key]: the new one signs, both verify
        rotated = os.path.join(self.workdir, "rotated.keys")
        harness.write_token_keys(rotated, [(2, self.new_secret), (1, self.scheduler.token_secret)])
        self.registry.stop()
        self.registry.extra["SCHALT_SCHALTSTELLE_TOKEN_KEYS"] = rotated
        self.registry.start()
        self.set_clock(self.registry, datetime.datetime.now(datetime.timezone.utc))
        self.assertEqual(self.cancel("--token", old_link)[0], 0)
        new_link = harness.make_token(2, self.new_secret, "cancel", ute["id"], 4102444800)
        self.assertEqual(self.cancel("--token", new_link)[0], 0)
        # and once the old key is retired, its links are refused
        retired = os.path.join(self.workdir, "retired.keys")
        harness.write_token_keys(retired, [(2, self.new_secret)])
        self.registry.stop()
        self.registry.extra["SCHALT_SCHALTSTELLE_TOKEN_KEYS"] = retired
        self.registry.start()
        result = self.cancel("--token", old_link)
        self.assertRefused(result, 403, "token_invalid", "/token", "--token")


class ClockTest(harness.E2ETestCase):
    """The clock can be set only in a test configuration."""

    REGISTRY = True
    NOTIFIER = True

    def test_clock_set_is_unknown_in_a_normal_configuration(self):
        daemons = [self.scheduler, self.registry] + ([self.notifier] if self.notifier else [])
        for endpoint in (daemon.endpoint for daemon in daemons):
            reply = self.request("clock.set", {"now": "2030-01-01T00:00:00Z"},
                                 dealer=self.dealer(endpoint))
            self.assertEqual((reply.status, reply.error["code"]), (400, "unknown_command"))

    def test_lua_instants(self):
        """schalt.instant (Redis's Lua has no os.date) against Python's calendar."""
        with open(os.path.join(harness.SOURCE, "common", "lua", "prelude.lua")) as source:
            prelude = source.read()
        cases = [0, 951782400, 951868799, 1804240800, 4107542399, 253402300799,
                 -62135596800, 1709164800]
        for seconds in cases:
            got = self.redis.command("EVAL", prelude + "\nreturn schalt.instant(ARGV[1])", 0,
                                     str(seconds)).decode()
            expected = (datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)
                        + datetime.timedelta(seconds=seconds + 62135596800))
            self.assertEqual(got, expected.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0"), seconds)


if __name__ == "__main__":
    import unittest
    unittest.main()
