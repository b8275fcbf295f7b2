"""test_web_forms - the web front's forms: registering through an event's page, and the
pages behind the links in the e-mails.

A real schalt-web against a real scheduler, registry, notifier, Redis and SMTP sink, all on
free loopback ports. A visitor opens a Day of Education's page (its sessions as a grid of
rooms and times), ticks two sessions and registers in one form; the result page says what
they got, and one e-mail follows. A double click sends the same request id and books
nothing twice. An overlap is refused with both sessions named, and nothing is booked. A
form without its signature (CSRF), with a broken field, without the privacy notice
accepted, or too large is refused and stores nothing. With the registry stopped the form
comes back with a "please send again", and sending it again once the registry is back books
once. The cancel link of the e-mail shows a page and changes nothing until its button is
pressed; the seat then goes to the first waiting, and the used link explains itself.
Every page parses as strict HTML5.
"""

import re
import threading
import time
import unittest
import urllib.parse

import html5lib

import harness
from test_lifecycle import LINK, LifecycleCase

PRIVACY = "2026-12"


def hidden(body, name):
    found = re.search(r'<input type="hidden" name="%s" value="([^"]*)">' % name, body)
    return found.group(1) if found else None


class WebFormCase(LifecycleCase):
    """A LifecycleCase (registry, notifier, mail sink, settable clock) with a
    schalt-web in front."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.web = harness.Web(cls.workdir, cls.scheduler,
                              {"SCHALT_WEB_PRIVACY_VERSION": PRIVACY})
        cls.addClassCleanup(cls.web.stop)
        cls.web.start()

    def page(self, path, status=200, **headers):
        code, got, body = self.web.get(path, headers)
        self.assertEqual(code, status, body[:800])
        self.strict(body)
        return body

    def send(self, path, fields, status=200):
        code, got, body = self.web.post(path, fields)
        self.assertEqual(code, status, body[:1500])
        self.assertEqual(got.get("referrer-policy"), "no-referrer")
        self.strict(body)
        return body

    def strict(self, body):
        html5lib.HTMLParser(strict=True).parse(body)

    def day_of_education(self, title="Tag der Bildung 2027"):
        """An event with four sessions in two rooms: A101 10:00 and 11:30, B202
        10:00 (at the same time as A101's first) and 13:00 (one seat)."""
        event = self.create_event(title, "2027-03-13T09:00", "2027-03-13T17:00",
                                  place="Rathaus Pulheim")
        sessions = [self.create_session(event["id"], *spec) for spec in (
            ("Sprachförderung in der Kita", "A101", "2027-03-13T10:00", "2027-03-13T11:00", 20),
            ("Elternabend <Grundschule>", "B202", "2027-03-13T10:00", "2027-03-13T11:00", 20),
            ("Übergang in die Sek I", "A101", "2027-03-13T11:30", "2027-03-13T12:30", 20),
            ("Berufsorientierung", "B202", "2027-03-13T13:00", "2027-03-13T14:00", 1))]
        for session in sessions:
            self.wait_for_facts(session["id"], lambda listed: True)
        return event, sessions

    def form(self, event, sessions, name="Erika Mustermann", email="erika@form.example",
             privacy=PRIVACY, page=None, **more):
        """The fields a visitor sends after ticking sessions on the event's
        page (page: the page's HTML, else it is fetched)."""
        body = page or self.page("/veranstaltung/" + event["id"])
        fields = [("session", s["id"]) for s in sessions]
        fields += [("name", name), ("email", email), ("institution", "Kita Sonnenschein"),
                   ("language", "de")]
        if privacy is not None:
            fields.append(("privacy", privacy))
        fields += [("request", hidden(body, "request")), ("csrf", hidden(body, "csrf"))]
        for key, value in more.items():
            fields = [(k, v) for k, v in fields if k != key] + [(key, value)]
        return fields

    def registrations_of(self, address, sessions):
        found = []
        for session in sessions:
            listed = self.registry_list(session["id"])
            found += [(session["title"], r["status"]) for r in
                      listed["confirmed"] + listed["waitlist"] + listed["offered"]
                      if r["email"] == address]
        return found


class RegisterTest(WebFormCase):

    def test_register_for_two_sessions_of_the_day_of_education(self):
        event, sessions = self.day_of_education()
        # The one seat of the last session goes to someone else first
        self.register_json(sessions[3]["id"], "Jan Früh", "jan@form.example")
        body = self.page("/veranstaltung/" + event["id"])
        self.assertIn("<h1>Tag der Bildung 2027</h1>", body)
        # The grid: a column for each room, a row for each time
        self.assertIn('<th scope="col">Raum A101</th><th scope="col">Raum B202</th>', body)
        self.assertRegex(body, r'<tr><th scope="row">13\.03\.2027, 10:00–11:00</th><td>'
                               r'<input type="checkbox" id="s-%s"' % sessions[0]["id"])
        self.assertIn("Elternabend &lt;Grundschule&gt;", body)
        self.assertRegex(body, r'(?s)<tr><th scope="row">13\.03\.2027, 11:30–12:30</th><td>.*?'
                               r'</td><td><span class="none">–</span></td></tr>')
        self.assertIn("ausgebucht – Warteliste", body)

        fields = self.form(event, [sessions[0], sessions[3]], page=body)
        result = self.send("/veranstaltung/" + event["id"], fields)
        self.assertIn("Vielen Dank für Ihre Anmeldung", result)
        self.assertRegex(result, r"„Sprachförderung in der Kita“</span>, 13\.03\.2027, "
                                 r"10:00–11:00, Raum A101:\s*<strong>Platz reserviert</strong> – "
                                 r"Ihr Code für den Einlass: <span class=\"code\">[A-Z0-9]{3}-"
                                 r"[A-Z0-9]{3}</span>")
        self.assertRegex(result, r"(?s)„Berufsorientierung“</span>, .*?<strong>Warteliste</strong> "
                                 r"– Platz 1")
        self.assertIn("erika@form.example", result)
        self.assertEqual(self.registrations_of("erika@form.example", sessions),
                         [("Sprachförderung in der Kita", "confirmed"),
                          ("Berufsorientierung", "waitlisted")])
        # The privacy notice's version is stored with each
        listed = self.registry_list(sessions[0]["id"])
        mine = [r for r in listed["confirmed"] if r["email"] == "erika@form.example"]
        self.assertEqual(mine[0]["privacy"], PRIVACY)
        self.assertEqual(mine[0]["institution"], "Kita Sonnenschein")

        # A double click (the same form again) books nothing twice, sends no second e-mail
        again = self.send("/veranstaltung/" + event["id"], fields)
        self.assertIn("Vielen Dank für Ihre Anmeldung", again)
        self.assertEqual(len(self.registrations_of("erika@form.example", sessions)), 2)
        mail = self.mail_of("erika@form.example", "Ihre Anmeldungen", 1)
        self.assertIn("Sprachförderung in der Kita", mail.text())
        self.assertIn("Berufsorientierung", mail.text())
        self.assertEqual(self.count_to("erika@form.example"), 1)

    def test_an_overlap_is_refused_naming_both_and_books_nothing(self):
        event, sessions = self.day_of_education("Tag der Bildung, Überschneidung")
        fields = self.form(event, sessions[:2], email="olga@form.example")
        body = self.send("/veranstaltung/" + event["id"], fields, 409)
        self.assertIn("Zwei gewählte Angebote finden zur selben Zeit statt", body)
        self.assertIn("„Sprachförderung in der Kita“, 13.03.2027, 10:00–11:00, Raum A101", body)
        self.assertIn("„Elternabend &lt;Grundschule&gt;“, 13.03.2027, 10:00–11:00, Raum B202", body)
        self.assertIn("Es wurde nichts gebucht", body)
        self.assertEqual(self.registrations_of("olga@form.example", sessions), [])
        # The form comes back filled in, its boxes ticked, with a new request id
        self.assertIn('value="olga@form.example"', body)
        self.assertIn('id="s-%s" name="session" value="%s" checked' %
                      (sessions[0]["id"], sessions[0]["id"]), body)
        self.assertNotEqual(hidden(body, "request"), dict(fields)["request"])
        # Choosing one of them then books it
        fixed = self.form(event, sessions[:1], email="olga@form.example", page=body)
        self.assertIn("Platz reserviert", self.send("/veranstaltung/" + event["id"], fixed))
        # And one that overlaps what she holds is refused naming hers
        held = self.send("/veranstaltung/" + event["id"],
                         self.form(event, sessions[1:2], email="olga@form.example"), 409)
        self.assertIn("schon angemeldet", held)
        self.assertEqual(self.registrations_of("olga@form.example", sessions),
                         [("Sprachförderung in der Kita", "confirmed")])

    def test_what_the_form_lacks_is_named_and_nothing_is_stored(self):
        event, sessions = self.day_of_education("Tag der Bildung, Lücken")
        path = "/veranstaltung/" + event["id"]
        cases = [
            (self.form(event, [], email="a@form.example"), 400, "mindestens ein Angebot"),
            (self.form(event, sessions[:1], email="b@form.example", privacy=None), 400,
             "Datenschutzhinweis gelesen"),
            (self.form(event, sessions[:1], email="c@form.example", privacy="0"), 400,
             "Datenschutzhinweis gelesen"),
            (self.form(event, sessions[:1], email="kein-at-zeichen"), 400,
             "gültige E-Mail-Adresse"),
            (self.form(event, sessions[:1], email="d@form.example", name=""), 400,
             "Ihren Namen"),
        ]
        for fields, status, words in cases:
            body = self.send(path, fields, status)
            self.assertIn(words, body)
        for address in "abcd":
            self.assertEqual(self.registrations_of(address + "@form.example", sessions), [])
        # A field with control characters or broken UTF-8: refused naming the field
        for value in (b"Erika\nBcc: x@evil.example", b"Erika \xff", b"Erika \xc2\x85"):
            body = self.send(path, self.form(event, sessions[:1], email="e@form.example",
                                             name=value), 400)
            self.assertIn("nicht erlaubt", body)
            self.assertIn("Feld: Name", body)
        self.assertEqual(self.registrations_of("e@form.example", sessions), [])

    def test_a_form_not_from_here_is_refused(self):
        event, sessions = self.day_of_education("Tag der Bildung, CSRF")
        path = "/veranstaltung/" + event["id"]
        fields = self.form(event, sessions[:1], email="mallory@form.example")
        other = self.form(event, sessions[:1], email="mallory@form.example")
        for changed in ([(k, v) for k, v in fields if k != "csrf"],
                        [(k, v if k != "csrf" else v[:-1] + ("0" if v[-1] != "0" else "1"))
                         for k, v in fields],
                        # a signature of another form's request id
                        [(k, v if k != "csrf" else dict(other)["csrf"]) for k, v in fields]):
            body = self.send(path, changed, 403)
            self.assertIn("stammt nicht von dieser Seite", body)
        self.assertIn("unvollständig",
                      self.send(path, [(k, v) for k, v in fields if k != "request"], 400))
        self.assertEqual(self.registrations_of("mallory@form.example", sessions), [])

    def test_too_large_and_wrong_type(self):
        event, sessions = self.day_of_education("Tag der Bildung, Größe")
        path = "/veranstaltung/" + event["id"]
        fields = self.form(event, sessions[:1], email="big@form.example",
                           institution="x" * 20000)
        code, got, body = self.web.post(path, fields)
        self.assertEqual(code, 413, body[:500])
        self.assertIn("zu groß", body)
        code, got, body = self.web.get(path, {"Content-Type": "text/plain"}, method="POST",
                                       body=b"name=x")
        self.assertEqual(code, 415)
        self.assertEqual(self.registrations_of("big@form.example", sessions), [])
        self.page(path)  # and it keeps serving

    def test_registry_stopped_while_a_form_is_sent(self):
        event, sessions = self.day_of_education("Tag der Bildung, Ausfall")
        path = "/veranstaltung/" + event["id"]
        page = self.page(path)
        self.registry.stop()
        try:
            fields = self.form(event, sessions[:1], email="geduld@form.example", page=page)
            # While the form waits for the registry (a worker asks it twice, 2 s each),
            # the other pages are served: their connections do not queue behind it
            waiting = []
            sender = threading.Thread(target=lambda: waiting.append(
                self.web.post(path, fields, timeout=30)))
            sender.start()
            time.sleep(0.5)
            code, _, other = self.web.get("/datenschutz", timeout=2)
            self.assertEqual(code, 200)
            code, _, other = self.web.get("/", timeout=3)
            self.assertEqual(code, 200)
            self.assertTrue(sender.is_alive(), "the form did not wait for the registry")
            sender.join(30)
            code, _, body = waiting[0]
            self.assertEqual(code, 503, body[:800])
            self.strict(body)
            self.assertIn("senden Sie das Formular in einer Minute noch einmal", body)
            # The same request id comes back, with the form as it was
            self.assertEqual(hidden(body, "request"), dict(fields)["request"])
            self.assertIn('value="geduld@form.example"', body)
        finally:
            self.registry.start()
        again = self.form(event, sessions[:1], email="geduld@form.example", page=body)
        self.assertEqual(dict(again)["request"], dict(fields)["request"])
        self.assertIn("Platz reserviert", self.send(path, again))
        self.assertIn("Platz reserviert", self.send(path, again))
        self.assertEqual(self.registrations_of("geduld@form.example", sessions),
                         [("Sprachförderung in der Kita", "confirmed")])
        self.assertEqual(self.count_to("geduld@form.example"), 1)


class LinkPageTest(WebFormCase):

    def link_path(self, message, action):
        for found in LINK.finditer(message.text()):
            if found.group(1) == action:
                return urllib.parse.urlsplit(found.group(0)).path + "?token=" + found.group(2)
        self.fail("no %s link in %s" % (action, message.text()))

    def test_the_cancel_link_asks_first_then_cancels_and_promotes(self):
        session = self.open_session("Elterncafé", capacity=1)
        self.register_json(session["id"], "Anna Acker", "anna@link.example")
        self.register_json(session["id"], "Bernd Bach", "bernd@link.example")
        path = self.link_path(self.mail_of("anna@link.example", "Anmeldebestätigung", 1),
                              "cancel")
        # Opening the link (a mail scanner does) changes nothing
        for _ in range(2):
            body = self.page(path)
            self.assertIn("<h1>Anmeldung absagen</h1>", body)
            self.assertIn("Guten Tag Anna Acker", body)
            self.assertIn("Elterncafé", body)
            self.assertIn("<button type=\"submit\">Jetzt absagen</button>", body)
        self.assertNotIn("anna@link.example", body)
        self.assertEqual(self.listed(session["id"]), (["anna@link.example"],
                                                      [("bernd@link.example", 1)]))
        # The button does it: Bernd, the first waiting, gets the seat
        fields = [("token", hidden(body, "token")), ("request", hidden(body, "request")),
                  ("csrf", hidden(body, "csrf"))]
        done = self.send(urllib.parse.urlsplit(path).path, fields)
        self.assertIn("Ihre Anmeldung ist abgesagt", done)
        self.assertEqual(self.listed(session["id"]), (["bernd@link.example"], []))
        # A double click is the same request
        self.assertIn("Ihre Anmeldung ist abgesagt",
                      self.send(urllib.parse.urlsplit(path).path, fields))
        self.mail_of("bernd@link.example", "Platz", 2)
        # The used link explains itself, with no button
        used = self.page(path)
        self.assertIn("schon beendet", used)
        self.assertNotIn("<button", used)
        self.assertEqual(self.count_to("anna@link.example"), 2)

    def test_broken_and_changed_links_explain_themselves(self):
        session = self.open_session("Lesepaten", capacity=5)
        self.register_json(session["id"], "Clara Cramer", "clara@link.example")
        path = self.link_path(self.mail_of("clara@link.example", "Anmeldebestätigung", 1),
                              "cancel")
        token = path.split("token=")[1]
        changed = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        cases = [("/registration/cancel", 400, "nicht vollständig"),
                 ("/registration/cancel?token=a%3Cb", 400, "nicht vollständig"),
                 ("/registration/cancel?token=" + token[:20], 400, "nicht vollständig"),
                 ("/registration/cancel?token=" + changed, 403, "verändert"),
                 ("/registration/accept?token=" + token, 403, "anderen Aktion")]
        for link, status, words in cases:
            body = self.page(link, status)
            self.assertIn(words, body, link)
            self.assertNotIn("<button", body)
        # A button pressed with a changed token changes nothing
        good = self.page(path)
        fields = [("token", changed), ("request", hidden(good, "request")),
                  ("csrf", hidden(good, "csrf"))]
        self.send("/registration/cancel", fields, 403)
        self.assertEqual(self.listed(session["id"]), (["clara@link.example"], []))


if __name__ == "__main__":
    unittest.main()
