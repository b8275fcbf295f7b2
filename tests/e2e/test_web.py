"""test_web - schalt-web, the web front, as a browser meets it (first step: the catalogue).

A real schalt-web on a free loopback port, with its own key of role web, against a real
scheduler and Redis: the catalogue at / shows what the scheduler holds, in German by
default and in English when asked (and remembered), with every value escaped; every page
parses as HTML5 without an error and carries the security headers; an unknown path, one
with `..` or `%2e%2e`, gets the 404 page; a stopped scheduler gets a "please try again"
page; and the daemon keeps serving throughout.
"""

import datetime
import os
import time
import unittest

import html5lib
import icalendar

import harness

HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                                "script-src 'self'; connect-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


class WebTest(harness.E2ETestCase):

    REGISTRY = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.web = harness.Web(cls.workdir, cls.scheduler)
        cls.addClassCleanup(cls.web.stop)
        cls.web.start()

    def page(self, path, status=200, **headers):
        code, got, body = self.web.get(path, headers)
        self.assertEqual(code, status, body[:500])
        for name, value in HEADERS.items():
            self.assertEqual(got.get(name), value, name)
        if got.get("content-type", "").startswith("text/html"):
            # Strict: any parse error of the HTML5 parser fails the test
            html5lib.HTMLParser(strict=True).parse(body)
        return got, body

    def test_the_catalogue_shows_the_events_in_german_escaped(self):
        event = self.create_event("Tag der Bildung <2027> & mehr", "2027-03-13T09:00",
                                  "2027-03-13T17:00", place="Rathaus \"Pulheim\"")
        session = self.create_session(event["id"], "Übergang Kita – Grundschule", "A101",
                                      "2027-03-13T10:00", "2027-03-13T11:30", 25)
        café = self.create_session(event["id"], "Elterncafé", "C3", "2027-03-13T12:00",
                                   "2027-03-13T13:00", 1)
        for known in (session, café):
            self.wait_for_facts(known["id"], lambda listed: True)
        code, out, err = self.schalt("register", "--session", café["id"], "--name", "Ayşe",
                                     "--email", "ayse@web.example")
        self.assertEqual(code, 0, err)
        got, body = self.page("/")
        self.assertEqual(got["content-language"], "de")
        self.assertIn('<html lang="de">', body)
        self.assertIn("<h1>Bildungsangebote</h1>", body)
        self.assertIn("Tag der Bildung &lt;2027&gt; &amp; mehr", body)
        self.assertIn("Rathaus &quot;Pulheim&quot;", body)
        self.assertNotIn("<2027>", body)
        # Seats left from the registry: 25 free, and the café full (its waitlist open)
        self.assertIn("<td>13.03.2027, 10:00–11:30</td><td>Übergang Kita – Grundschule</td>"
                      "<td>A101</td><td>25 frei</td>", body)
        self.assertIn("<td>Elterncafé</td><td>C3</td><td>ausgebucht – Warteliste</td>", body)
        self.assertNotIn("Ayşe", body)
        self.assertNotIn("ayse@web.example", body)
        got, body = self.page("/?lang=en")
        self.assertIn("<td>A101</td><td>25 left</td>", body)

    def test_english_on_request_and_remembered(self):
        got, body = self.page("/?lang=en")
        self.assertEqual(got["content-language"], "en")
        self.assertIn("<h1>Education offers</h1>", body)
        cookie = got["set-cookie"]
        self.assertIn("lang=en", cookie)
        self.assertIn("SameSite=Lax", cookie)
        got, body = self.page("/", Cookie="lang=en")
        self.assertIn("<h1>Education offers</h1>", body)
        got, body = self.page("/", Cookie="lang=<script>")
        self.assertIn("<h1>Bildungsangebote</h1>", body)

    def test_unknown_paths_get_the_404_page(self):
        for path in ("/nichts", "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                     "/static/../de.json", "/static/style.css%00", "/static/x.js"):
            got, body = self.page(path, 404)
            self.assertIn("Seite nicht gefunden", body, path)
        got, css = self.page("/static/style.css")
        self.assertTrue(got["content-type"].startswith("text/css"))
        self.assertIn("font-family", css)

    def test_other_methods_are_refused(self):
        for method in ("DELETE", "PUT"):
            code, got, body = self.web.get("/", method=method)
            self.assertEqual(code, 405)
        code, got, body = self.web.post("/", [("a", "b")])
        self.assertEqual(code, 405)

    def test_the_catalogue_filters_by_transition_provider_and_month(self):
        def event(title, start, provider, topics):
            code, made, err = self.schalt_json(
                "event", "create", "--kind", "meeting", "--title", title, "--start", start,
                "--end", start[:11] + "20:00", "--place", "VHS", "--provider", provider)
            self.assertEqual(code, 0, err)
            self.create_session(made["id"], title + " – Teil 1", "R1", start,
                                start[:11] + "19:00", 10, topics=topics)
            return made
        event("Bewerbungstraining", "2027-04-20T17:00", "Agentur <für> Arbeit",
              ["schule-beruf"])
        event("Fit im Alter", "2027-05-04T17:00", "Seniorenbüro", ["aelter-werden"])
        got, body = self.page("/?provider=" + "Agentur%20%3Cf%C3%BCr%3E%20Arbeit")
        self.assertIn("Bewerbungstraining", body)
        self.assertNotIn("Fit im Alter", body)
        self.assertIn("Anbieter: Agentur &lt;für&gt; Arbeit", body)
        self.assertIn('<option value="Agentur &lt;für&gt; Arbeit" selected>', body)
        got, body = self.page("/?topic=aelter-werden")
        self.assertIn("Fit im Alter", body)
        self.assertNotIn("Bewerbungstraining", body)
        self.assertIn('<option value="aelter-werden" selected>Älter werden</option>', body)
        got, body = self.page("/?month=2027-04")
        self.assertIn("Bewerbungstraining", body)
        self.assertNotIn("Fit im Alter", body)
        self.assertIn('<option value="2027-05">Mai 2027</option>', body)
        got, body = self.page("/?month=2031-01")
        self.assertIn("Zu dieser Auswahl gibt es zurzeit keine Angebote.", body)
        # A filter that is none: refused naming it
        for query, label in (("topic=alles", "Übergang"), ("month=2027-13", "Monat"),
                             ("month=%3Cx%3E", "Monat"), ("provider=%FF", "Anbieter"),
                             ("provider=a%0Ab", "Anbieter")):
            got, body = self.page("/?" + query, 400)
            self.assertIn("Diese Auswahl gibt es nicht.", body)
            self.assertIn("Feld: " + label, body)

    def test_the_feeds_calendar_programs_subscribe_to(self):
        code, made, err = self.schalt_json(
            "event", "create", "--kind", "meeting", "--title", "Elternabend, Übergang; \"Sek I\"",
            "--start", "2027-06-01T18:00", "--end", "2027-06-01T21:00", "--place", "Aula",
            "--provider", "Gesamtschule Nord")
        self.assertEqual(code, 0, err)
        session = self.create_session(made["id"], "Infoabend Gesamtschule", "Aula 1",
                                      "2027-06-01T19:00", "2027-06-01T20:30", 80,
                                      topics=["grundschule-sek1"])
        other = self.create_session(made["id"], "Berufsberatung", "Aula 2", "2027-06-01T19:00",
                                    "2027-06-01T20:00", 20, topics=["schule-beruf"])
        code, out, err = self.schalt("register", "--session", session["id"], "--name",
                                     "Peter Privat", "--email", "peter@feed.example")

        def feed(path):
            code, got, body = self.web.get(path)
            self.assertEqual(code, 200, body[:300])
            self.assertTrue(got["content-type"].startswith("text/calendar"), got)
            raw = body.encode("utf-8")
            for line in raw.split(b"\r\n")[:-1]:
                self.assertLessEqual(len(line), 75, line)
                self.assertNotIn(b"\n", line)
            self.assertTrue(raw.endswith(b"\r\n"))
            self.assertNotIn("Peter", body)
            self.assertNotIn("peter@feed.example", body)
            calendar = icalendar.Calendar.from_ical(body)
            return calendar, {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}

        calendar, entries = feed("/kalender.ics")
        self.assertNotIn("METHOD", calendar)
        self.assertEqual(str(calendar["X-WR-CALNAME"]), "Bildungsangebote – Bildungsbüro")
        entry = entries["Infoabend Gesamtschule"]
        self.assertEqual(str(entry["UID"]), session["id"] + "@127.0.0.1")
        start = entry["DTSTART"].dt
        self.assertEqual(start.replace(tzinfo=None), datetime.datetime(2027, 6, 1, 19, 0))
        self.assertEqual(entry["DTSTART"].params["TZID"], "Europe/Berlin")
        self.assertEqual(str(entry["LOCATION"]), "Aula, Raum Aula 1")
        self.assertIn("Elternabend, Übergang; \"Sek I\"", str(entry["DESCRIPTION"]))
        self.assertIn("Anbieter: Gesamtschule Nord", str(entry["DESCRIPTION"]))
        self.assertEqual(str(entry["URL"]), "http://127.0.0.1:8080/veranstaltung/" + made["id"])
        self.assertEqual(str(entry["TRANSP"]), "TRANSPARENT")
        self.assertIn("Berufsberatung", entries)
        # One transition only, and English on request
        calendar, entries = feed("/kalender/schule-beruf.ics?lang=en")
        self.assertIn("Berufsberatung", entries)
        self.assertNotIn("Infoabend Gesamtschule", entries)
        self.assertEqual(str(entries["Berufsberatung"]["LOCATION"]), "Aula, Room Aula 2")
        self.assertEqual(str(calendar["X-WR-CALNAME"]),
                         "Education offers: From school to work – Education office")
        for path in ("/kalender/alles.ics", "/kalender/.ics", "/kalender/schule-beruf",
                     "/kalender/schule-beruf.ics/x"):
            code, got, body = self.web.get(path)
            self.assertEqual(code, 404, path)
        # A cancelled session leaves the feed
        code, out, err = self.schalt("session", "cancel", other["id"])
        self.assertEqual(code, 0, err)
        calendar, entries = feed("/kalender.ics")
        self.assertNotIn("Berufsberatung", entries)

    def test_the_catalogue_made_once_follows_every_change(self):
        # The catalogue is made once and kept for everyone until the daemons publish a
        # change: a registration, a session changed, a new event
        event = self.create_event("Fachtag Kita", "2027-05-05T09:00", "2027-05-05T15:00")
        session = self.create_session(event["id"], "Sprachkiste", "K1", "2027-05-05T10:00",
                                      "2027-05-05T11:00", 2)
        self.wait_for_facts(session["id"], lambda listed: True)

        def shows(text):
            return harness.wait_until(lambda: text in self.page("/")[1], 5)
        self.assertTrue(shows("<td>K1</td><td>2 frei</td>"))
        first, again = self.page("/")[1], self.page("/")[1]
        self.assertEqual(first, again)
        code, out, err = self.schalt("register", "--session", session["id"], "--name", "Ida",
                                     "--email", "ida@web.example")
        self.assertEqual(code, 0, err)
        self.assertTrue(shows("<td>K1</td><td>1 frei</td>"), self.page("/")[1][-3000:])
        code, out, err = self.schalt("session", "update", session["id"], "--title",
                                     "Sprachkiste (neu)")
        self.assertEqual(code, 0, err)
        self.assertTrue(shows("<td>Sprachkiste (neu)</td>"))
        self.create_event("Fachtag Schule", "2027-05-06T09:00", "2027-05-06T15:00")
        self.assertTrue(shows("Fachtag Schule"))

    def test_a_trickling_client_and_two_thousand_connections(self):
        import resource
        import socket
        # One byte a second: the others are served meanwhile (it holds one of
        # web/connections while it trickles; nginx's client_header_timeout ends it in an
        # installation)
        slow = socket.create_connection(("127.0.0.1", self.web.port), timeout=30)
        self.addCleanup(slow.close)
        started = time.monotonic()
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40:
            try:
                slow.send(bytes([byte]))
            except OSError:
                break
            if int(time.monotonic() - started) % 3 == 0:
                self.assertEqual(self.web.get("/static/style.css", timeout=2)[0], 200)
            time.sleep(1)
            if time.monotonic() - started > 14:
                break
        # 2,000 connections at once, each with half a request: one more is still served
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 2200:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        many = []
        self.addCleanup(lambda: [s.close() for s in many])
        for _ in range(2000):
            connection = socket.create_connection(("127.0.0.1", self.web.port), timeout=10)
            connection.send(b"GET / HTTP/1.1\r\n")
            many.append(connection)
        code, _, body = self.web.get("/", timeout=10)
        self.assertEqual(code, 200, body[:300])
        with open("/proc/%d/status" % self.web.proc.pid) as status:
            rss = [int(line.split()[1]) for line in status if line.startswith("VmRSS:")][0]
        # (AddressSanitizer's shadow memory is counted in a sanitized build's)
        limit = 1536 if os.environ.get("SCHALT_SANITIZED") == "1" else 400
        self.assertLess(rss, limit * 1024, "schalt-web holds %d KiB with 2,000 connections"
                        % rss)
        for connection in many:
            connection.close()
        many.clear()
        self.assertEqual(self.web.get("/", timeout=10)[0], 200)
        self.assertIsNone(self.web.proc.poll())

    def test_a_stopped_scheduler_gets_a_try_again_page(self):
        self.scheduler.stop()
        try:
            got, body = self.page("/", 503)
            self.assertIn("Bitte versuchen Sie es gleich noch einmal", body)
        finally:
            self.scheduler.start()
        self.page("/")
        self.assertNotIn("ERROR", self.web.log_text())


if __name__ == "__main__":
    unittest.main()
