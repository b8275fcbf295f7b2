"""test_web_dashboard - the organisers' dashboard behind its login, over HTTP.

A real schalt-web (its own service: the accounts and logins, in Redis) against a real
scheduler, registry, notifier, Redis and SMTP sink, on free loopback ports. An account is
made with `schalt user add` (the password from standard input, only its Argon2id hash
sent); its login sets a cookie that is HttpOnly, SameSite=Strict and for /verwaltung only,
and logging out ends it. A wrong password is refused, the tenth within 15 minutes locks the
name (the right password is refused too) until `schalt user unlock`. Without a login every
page of the dashboard leads to the login, and a form sent without it changes nothing. The
overview shows each session's fill level and waitlist; a session's page lists its people,
and its cancel button cancels once (the form sent twice is one request), promotes the first
waiting, and the registry's audit log names the organiser. The CSV download opens in a
spreadsheet without running a formula. The check-in page finds a person by name or code
and marks them present once. Every page parses as strict HTML5.
"""

import csv
import http.client
import io
import json
import time
import os
import re
import subprocess
import unittest

import harness
from test_web_forms import WebFormCase, hidden

PASSWORD = "Tag-der-Bildung-2027"


def cookie_of(headers):
    """The login cookie a response sets: (value, its attributes in lower case)."""
    for line in headers.get("set-cookie", "").split("\n"):
        if line.startswith("schalt_login="):
            value, _, attributes = line.partition(";")
            return value[len("schalt_login="):], attributes.lower()
    return None, ""


class DashboardCase(WebFormCase):

    def add_user(self, name, role="organiser", password=PASSWORD, expect=0):
        """schalt user add (the class's tests share one Redis: an account
        an earlier test made is kept, if expect is 0)."""
        env = self.scheduler.env()
        result = subprocess.run(
            [os.path.join(harness.BIN, "schalt"), "user", "add", name, "--role", role,
             "--password-stdin"], env=env, input=(password + "\n").encode(), capture_output=True,
            timeout=60)
        err = result.stderr.decode()
        if not (expect == 0 and result.returncode == 1 and "user_exists" in err):
            self.assertEqual(result.returncode, expect, err)
        return err

    def login_form(self):
        code, _, body = self.web.get("/verwaltung/anmelden")
        self.assertEqual(code, 200, harness.tail(self.web.log))
        self.strict(body)
        return [("request", hidden(body, "request")), ("csrf", hidden(body, "csrf"))]

    def try_login(self, name, password):
        return self.web.post("/verwaltung/anmelden",
                             self.login_form() + [("name", name), ("password", password)])

    def login(self, name="erika", password=PASSWORD):
        code, headers, body = self.try_login(name, password)
        self.assertEqual(code, 303, body[:800])
        self.assertEqual(headers.get("location"), "/verwaltung")
        value, _ = cookie_of(headers)
        self.assertTrue(value)
        return {"Cookie": "schalt_login=" + value}

    def dashboard(self, path, cookie, status=200):
        code, headers, body = self.web.get(path, cookie)
        self.assertEqual(code, status, body[:1500] + harness.tail(self.web.log))
        if headers.get("content-type", "").startswith("text/html"):
            self.strict(body)
        return body

    def press(self, path, cookie, page, **fields):
        """Sends the form of page whose hidden registration is fields'
        (or the page's first form) with its request id and signature."""
        marker = fields.get("registration")
        at = page.index('value="%s"' % marker) if marker else 0
        form = [("request", hidden(page[at:], "request")), ("csrf", hidden(page[at:], "csrf"))]
        form += list(fields.items())
        code, headers, body = self.web.post(path, form, headers=cookie)
        return code, body, form


class LoginTest(DashboardCase):

    def test_login_cookie_and_logout(self):
        self.add_user("erika")
        # Without a login, every page of the dashboard leads to the login
        code, headers, _ = self.web.get("/verwaltung")
        self.assertEqual((code, headers.get("location")), (303, "/verwaltung/anmelden"))
        login_page = self.dashboard("/verwaltung/anmelden", {})
        self.assertIn('autocomplete="current-password"', login_page)

        # A wrong password: refused, no cookie
        code, headers, body = self.try_login("erika", "falsch-falsch-falsch")
        self.assertEqual(code, 401, body[:800])
        self.strict(body)
        self.assertIn("Benutzername oder Passwort ist falsch", body)
        self.assertEqual(cookie_of(headers), (None, ""))
        # An unknown name reads the same
        code, _, body = self.try_login("niemand", PASSWORD)
        self.assertEqual(code, 401)
        self.assertIn("Benutzername oder Passwort ist falsch", body)

        # The right one: a cookie only scripts cannot read, for /verwaltung only
        code, headers, body = self.try_login("erika", PASSWORD)
        self.assertEqual(code, 303, body)
        value, attributes = cookie_of(headers)
        self.assertRegex(value, r"^[A-Za-z0-9_-]{43}$")
        self.assertIn("httponly", attributes)
        self.assertIn("samesite=strict", attributes)
        self.assertIn("path=/verwaltung", attributes)
        self.assertNotIn("secure", attributes)  # plain http here; https:// base_url adds it
        cookie = {"Cookie": "schalt_login=" + value}
        overview = self.dashboard("/verwaltung", cookie)
        self.assertIn("Angemeldet als <strong>erika</strong>", overview)

        # Logging out ends the login, also for a copy of the cookie
        code, headers, _ = self.web.post(
            "/verwaltung/abmelden", [("request", hidden(overview, "request")),
                                     ("csrf", hidden(overview, "csrf"))], headers=cookie)
        self.assertEqual((code, headers.get("location")), (303, "/verwaltung/anmelden"))
        self.assertIn("max-age=0", cookie_of(headers)[1])
        code, headers, _ = self.web.get("/verwaltung", cookie)
        self.assertEqual((code, headers.get("location")), (303, "/verwaltung/anmelden"))

        # A made-up cookie is no login
        code, _, _ = self.web.get("/verwaltung", {"Cookie": "schalt_login=" + "A" * 43})
        self.assertEqual(code, 303)

    def test_lock_out_after_ten_failures_until_unlocked(self):
        self.add_user("bernd")
        for attempt in range(9):
            code, _, body = self.try_login("bernd", "wrong-password-%d" % attempt)
            self.assertEqual(code, 401, body[:600])
        code, _, body = self.try_login("bernd", "wrong-password-9")
        self.assertEqual(code, 403)
        self.assertIn("für 15 Minuten gesperrt", body)
        # Now the right password is refused too, and nothing is set
        code, headers, body = self.try_login("bernd", PASSWORD)
        self.assertEqual(code, 403)
        self.assertIn("gesperrt", body)
        self.assertEqual(cookie_of(headers), (None, ""))
        code, users, err = self.schalt_json("user", "list")
        self.assertEqual(code, 0, err)
        self.assertEqual([(u["name"], u["locked"]) for u in users if u["name"] == "bernd"],
                         [("bernd", True)])
        # An admin unlocks it
        code, out, err = self.schalt("user", "unlock", "bernd")
        self.assertEqual(code, 0, err)
        self.login("bernd")

    def test_login_form_refusals(self):
        self.add_user("clara")
        # Without its signature (sent from another site): 403, no login
        code, headers, body = self.web.post("/verwaltung/anmelden", [
            ("request", "web-0000000000-0000000000"), ("name", "clara"),
            ("password", PASSWORD)])
        self.assertIn(code, (400, 403), body[:500])
        self.assertEqual(cookie_of(headers), (None, ""))

    def test_user_add_checks_what_it_is_given(self):
        err = self.add_user("dora", password="kurz", expect=2)
        self.assertIn("at least 10 characters", err)
        code, out, err = self.schalt("user", "add", "dora", "--role", "chef", "--password-stdin")
        self.assertEqual(code, 2)
        self.assertIn("--role must be organiser or admin", err)
        err = self.add_user("Dora Groß", expect=1)
        self.assertIn("/name", err)
        self.add_user("dora")
        err = self.add_user("dora", expect=1)
        self.assertIn("user_exists", err)
        code, users, err = self.schalt_json("user", "list")
        self.assertEqual(code, 0, err)
        dora = [u for u in users if u["name"] == "dora"]
        self.assertEqual([(u["role"], u["locked"]) for u in dora], [("organiser", False)])
        self.assertNotIn("hash", dora[0])
        # Removed: its login ends
        cookie = self.login("dora")
        code, out, err = self.schalt("user", "remove", "dora")
        self.assertEqual(code, 0, err)
        code, _, _ = self.web.get("/verwaltung", cookie)
        self.assertEqual(code, 303)


    def test_only_an_admin_manages_accounts(self):
        endpoint = self.scheduler.others["SCHALT_WEB_ENDPOINT"]
        body = {"name": "mallory", "role": "admin",
                "hash": "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"}
        # An organiser's key, and the web front's own, may not make one
        for key in ("erika", "web"):
            reply = self.dealer(endpoint, key=key).request("user.add", body,
                                                           harness.new_request_id())
            self.assertEqual(reply.status, 403, reply)
        code, users, err = self.schalt_json("user", "list")
        self.assertEqual(code, 0, err)
        self.assertNotIn("mallory", [u["name"] for u in users])
        # Nor read a password's hash
        reply = self.dealer(endpoint, key="erika").request("user.credentials",
                                                           {"name": "erika"},
                                                           harness.new_request_id())
        self.assertEqual(reply.status, 403, reply)
        # What the admin did is in the web front's audit log, without a hash
        self.add_user("frieda")
        code, entries, err = self.schalt_json("audit", "--service", "web")
        self.assertEqual(code, 0, err)
        made = [e for e in entries if e["command"] == "user.add" and e["status"] == 201]
        self.assertTrue(made, entries)
        self.assertEqual({e["role"] for e in made}, {"admin"})
        self.assertNotIn("argon2", str(entries))
        refused = [e for e in entries if e["command"] == "user.add" and e["status"] == 403]
        self.assertEqual(len(refused), 2, entries)


class SessionPagesTest(DashboardCase):

    def test_fill_levels_cancel_and_csv(self):
        self.add_user("erika")
        cookie = self.login()
        session = self.open_session("Elternabend Übergang", capacity=2,
                                    event_title="Tag der Bildung 2027 (Verwaltung)")
        people = [self.register_json(session["id"], name, email) for name, email in (
            ("Anna Abend", "anna@dash.example"), ("=HYPERLINK(\"http://x\")", "bert@dash.example"),
            ("Carla Spät", "carla@dash.example"))]
        overview = self.dashboard("/verwaltung", cookie)
        row = re.search(r'(?s)<tr id="fill-%s">(.*?)</tr>' % session["id"], overview)
        self.assertTrue(row, overview[:3000])
        self.assertIn('<span class="taken">2</span> von <span class="capacity">2</span>',
                      row.group(1))
        self.assertIn('<strong class="full" data-text=" · voll"> · voll</strong>', row.group(1))
        self.assertIn('<span class="waiting">1</span>', row.group(1))

        page = self.dashboard("/verwaltung/angebot/" + session["id"], cookie)
        self.assertIn("Anna Abend", page)
        self.assertIn("=HYPERLINK(&quot;http://x&quot;)", page)
        self.assertRegex(page, r"(?s)Warteliste</h2>.*Carla Spät")

        # Without the login, the cancel button changes nothing
        anna = people[0]["id"]
        code, _, form = self.press("/verwaltung/angebot/" + session["id"], {}, page,
                                   registration=anna)
        self.assertEqual(code, 303)
        self.assertEqual(len(self.registry_list(session["id"])["confirmed"]), 2)

        # With it: Anna is cancelled, Carla moves up; the same form again changes nothing
        code, body, form = self.press("/verwaltung/angebot/" + session["id"], cookie, page,
                                      registration=anna)
        self.assertEqual(code, 200, body[:1500])
        self.strict(body)
        self.assertIn("Die Anmeldung ist storniert", body)
        listed = self.registry_list(session["id"])
        self.assertEqual(sorted(r["name"] for r in listed["confirmed"] + listed["offered"]),
                         sorted(["=HYPERLINK(\"http://x\")", "Carla Spät"]))
        code, _, again = self.web.post("/verwaltung/angebot/" + session["id"], form,
                                       headers=cookie)
        self.assertEqual(code, 200, again[:800])
        self.assertEqual(len(self.registry_list(session["id"])["waitlist"]), 0)
        code, entries, err = self.schalt_json("audit", "--service", "registry", "--object", anna)
        self.assertEqual(code, 0, err)
        cancels = [e for e in entries if e["command"] == "registration.cancel"]
        self.assertEqual([(e["user"], e["user_role"], e["role"]) for e in cancels],
                         [("erika", "organiser", "web")])

        # The CSV: a byte order mark, ';' between cells, a formula defused
        code, headers, text = self.web.get("/verwaltung/angebot/%s.csv" % session["id"], cookie)
        self.assertEqual(code, 200)
        self.assertTrue(headers["content-type"].startswith("text/csv"))
        self.assertTrue(text.startswith("\ufeff"))
        rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
        self.assertEqual(rows[0][:5], ["Status", "Platz", "Name", "E-Mail-Adresse", "Einrichtung"])
        names = [r[2] for r in rows[1:]]
        self.assertIn("'=HYPERLINK(\"http://x\")", names)
        self.assertNotIn("Anna Abend", names)  # cancelled: not among the seats and waitlist

    def test_fill_levels_change_live(self):
        self.add_user("erika")
        cookie = self.login()
        session = self.open_session("Live-Probe", capacity=2,
                                    event_title="Tag der Bildung 2027 (live)")
        overview = self.dashboard("/verwaltung", cookie)
        self.assertIn('<script src="/static/live.js" defer></script>', overview)
        self.assertRegex(overview, r'<tr id="fill-%s">(?s:.*?)<strong class="full" '
                         r'data-text=" · voll" hidden></strong>' % session["id"])
        code, headers, script = self.web.get("/static/live.js")
        self.assertEqual(code, 200)
        self.assertTrue(headers["content-type"].startswith("text/javascript"))
        self.assertIn('new EventSource("/verwaltung/live")', script)
        # Without a login there is no stream
        code, headers, _ = self.web.get("/verwaltung/live")
        self.assertEqual((code, headers.get("location")), (303, "/verwaltung/anmelden"))

        connection = http.client.HTTPConnection("127.0.0.1", self.web.port, timeout=15)
        self.addCleanup(connection.close)
        connection.request("GET", "/verwaltung/live", headers=cookie)
        stream = connection.getresponse()
        self.assertEqual(stream.status, 200)
        self.assertTrue(stream.getheader("content-type").startswith("text/event-stream"))
        self.assertEqual(stream.readline(), b"retry: 5000\n")

        def next_fill(deadline):
            event = None
            while time.monotonic() < deadline:
                line = stream.readline().decode()
                if line.startswith("event: "):
                    event = line[7:].strip()
                elif line.startswith("data: ") and event == "fill":
                    fill = json.loads(line[6:])
                    if fill["session"] == session["id"]:
                        return fill
            return None

        # Someone registers elsewhere (here: by schalt); the stream tells the counts
        self.register_json(session["id"], "Live Gast", "live1@dash.example")
        fill = next_fill(time.monotonic() + 10)
        self.assertEqual(fill, {"session": session["id"], "taken": 1, "capacity": 2,
                                "waiting": 0})
        self.register_json(session["id"], "Live Gast", "live2@dash.example")
        self.register_json(session["id"], "Live Gast", "live3@dash.example")
        seen = [next_fill(time.monotonic() + 10) for _ in range(2)]
        self.assertEqual(seen[-1], {"session": session["id"], "taken": 2, "capacity": 2,
                                    "waiting": 1})
        # A capacity raised by the scheduler comes through too
        code, _, err = self.schalt("session", "update", session["id"], "--capacity", "5")
        self.assertEqual(code, 0, err)
        fill = next_fill(time.monotonic() + 10)
        self.assertEqual(fill["capacity"], 5)
        # The stream names no person
        self.assertNotIn("Live Gast", json.dumps(seen))
        # schalt-web stops cleanly (exit 0, at once) with a stream open, which ends
        started = time.monotonic()
        self.assertEqual(self.web.stop(), 0, harness.tail(self.web.log))
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(stream.read().strip(), b"")  # the stream ends
        self.web.start()

    def test_notices_failed_first(self):
        self.add_user("erika")
        cookie = self.login()
        session = self.open_session("Mail-Probe", capacity=5,
                                    event_title="Tag der Bildung 2027 (E-Mails)")
        self.register_json(session["id"], "Gute Adresse", "gut@dash.example")
        self.register_json(session["id"], "Tippfehler", "tipp@refused.example")
        self.mails_to("gut@dash.example", 1)

        def failed():
            code, notices, err = self.schalt_json("notices", "--state", "failed")
            return notices and any(n["recipient"]["email"] == "tipp@refused.example"
                                   for n in notices)
        self.assertTrue(harness.wait_until(failed, 15), self.notifier.log_text())
        page = self.dashboard("/verwaltung/mitteilungen", cookie)
        rows = re.findall(r'(?s)<tr id="notice-[^"]*" class="state-(\w+)">(.*?)</tr>', page)
        states = [state for state, _ in rows]
        self.assertEqual(states[0], "failed", states)
        self.assertIn("sent", states)
        self.assertEqual(states.index("sent"), len([s for s in states if s == "failed"]))
        first = rows[0][1]
        self.assertIn("<strong>gescheitert</strong>", first)
        self.assertIn("Tippfehler &lt;tipp@refused.example&gt;", first)
        self.assertIn("Anmeldebestätigung", first)
        self.assertRegex(first, r"550 .*no such mailbox")
        # Not without a login
        code, headers, _ = self.web.get("/verwaltung/mitteilungen")
        self.assertEqual(code, 303)

    def test_checkin_by_name_and_code(self):
        self.add_user("erika")
        cookie = self.login()
        session = self.open_session("Einlass-Probe", capacity=5,
                                    event_title="Tag der Bildung 2027 (Einlass)")
        first = self.register_json(session["id"], "Jana Tür", "jana@door.example")
        second = self.register_json(session["id"], "Kurt Tor", "kurt@door.example")
        listed = self.registry_list(session["id"])
        by_name = {r["name"]: r for r in listed["confirmed"]}
        self.assertEqual(len(by_name), 2, (first, second))

        page = self.dashboard("/verwaltung/einlass/%s?q=jana" % session["id"], cookie)
        self.assertIn("Jana Tür", page)
        self.assertNotIn("Kurt Tor", page)
        jana = by_name["Jana Tür"]["id"]
        code, body, form = self.press("/verwaltung/einlass/" + session["id"], cookie, page,
                                      registration=jana)
        self.assertEqual(code, 200, body[:1500])
        self.strict(body)
        self.assertIn("Jana Tür: eingecheckt.", body)
        self.assertIn("anwesend seit", body)
        checked = [r for r in self.registry_list(session["id"])["confirmed"] if r["id"] == jana]
        self.assertIn("checked_in", checked[0])
        # The same form again: one check-in
        code, body, _ = self.press("/verwaltung/einlass/" + session["id"], cookie, page,
                                   registration=jana)
        self.assertEqual(code, 200)

        # By code, typed in lower case without the dash
        code = by_name["Kurt Tor"]["code"]
        page = self.dashboard("/verwaltung/einlass/" + session["id"], cookie)
        status, body, _ = self.press("/verwaltung/einlass/" + session["id"], cookie, page,
                                     code=code.replace("-", "").lower())
        self.assertEqual(status, 200, body[:1500])
        self.assertIn("Kurt Tor: eingecheckt.", body)
        # A code the session does not have
        page = self.dashboard("/verwaltung/einlass/" + session["id"], cookie)
        status, body, _ = self.press("/verwaltung/einlass/" + session["id"], cookie, page,
                                     code="ZZZ-ZZZ")
        self.assertEqual(status, 409, body[:1500])
        self.assertIn("diesen Code gibt es bei diesem Angebot nicht", body)
        # Search by code finds Kurt
        page = self.dashboard("/verwaltung/einlass/%s?q=%s" % (session["id"], code), cookie)
        self.assertIn("Kurt Tor", page)
        self.assertNotIn("Jana Tür</span>", page)

    def test_unknown_session_and_bad_paths(self):
        self.add_user("erika")
        cookie = self.login()
        self.dashboard("/verwaltung/angebot/ses-0000000000-0000000000", cookie, status=404)
        self.dashboard("/verwaltung/angebot/..%2f..%2fetc", cookie, status=404)
        self.dashboard("/verwaltung/einlass/ses-0000000000-0000000000?q=%01", cookie,
                       status=400)


class OfficeFormsTest(DashboardCase):

    def form_of(self, path, cookie):
        page = self.dashboard(path, cookie)
        return page, [("request", hidden(page, "request")), ("csrf", hidden(page, "csrf"))]

    def send_form(self, path, cookie, fields, status=303):
        page, hidden_fields = self.form_of(path, cookie)
        code, headers, body = self.web.post(path, hidden_fields + fields, headers=cookie)
        self.assertEqual(code, status, body[:2000] + harness.tail(self.web.log))
        if code != 303:
            self.strict(body)
        return headers.get("location"), body, hidden_fields + fields

    def test_events_and_sessions_made_changed_and_cancelled_through_the_pages(self):
        self.add_user("erika")
        cookie = self.login()
        overview = self.dashboard("/verwaltung", cookie)
        self.assertIn('href="/verwaltung/veranstaltung/neu"', overview)
        # A new event; the times typed in German or as the browser sends them
        location, _, sent = self.send_form("/verwaltung/veranstaltung/neu", cookie, [
            ("kind", "day-of-education"), ("title", "Tag der Bildung 2028"),
            ("place", "Rathaus Pulheim"), ("start", "11.03.2028 09:00"),
            ("end", "2028-03-11T17:00"), ("description", "Zeile 1\r\nZeile 2"),
            ("provider", ""), ("organiser_name", ""), ("organiser_email", "")])
        found = re.fullmatch(r"/verwaltung/veranstaltung/(evt-[0-9a-z]{10})/neu", location)
        self.assertTrue(found, location)
        event_id = found.group(1)
        code, event, err = self.schalt_json("event", "get", event_id)
        self.assertEqual(code, 0, err)
        self.assertEqual((event["title"], event["start"], event["end"], event["description"]),
                         ("Tag der Bildung 2028", "2028-03-11T08:00:00Z", "2028-03-11T16:00:00Z",
                          "Zeile 1\nZeile 2"))
        # The same form again (a double click) makes no second event
        code, headers, _ = self.web.post("/verwaltung/veranstaltung/neu", sent, headers=cookie)
        self.assertEqual((code, headers.get("location")), (303, location))
        code, events, err = self.schalt_json("event", "list")
        self.assertEqual([e["id"] for e in events if e["title"] == "Tag der Bildung 2028"],
                         [event_id])

        # A session of it; its form begins with the event's times
        form_page = self.dashboard(location, cookie)
        self.assertIn('name="start" type="datetime-local" value="2028-03-11T09:00"', form_page)
        self.assertIn('name="end" type="datetime-local" value="2028-03-11T17:00"', form_page)
        location, _, _ = self.send_form(location, cookie, [
            ("title", "Sprachförderung"), ("room", "A101"), ("start", "2028-03-11T10:00"),
            ("end", "2028-03-11T11:00"), ("capacity", "20"), ("topics", "familie-kita"),
            ("topics", "kita-grundschule")])
        found = re.fullmatch(r"/verwaltung/angebot/(ses-[0-9a-z]{10}-[0-9a-z]{10})", location)
        self.assertTrue(found, location)
        session_id = found.group(1)
        code, session, err = self.schalt_json("session", "get", session_id)
        self.assertEqual(code, 0, err)
        self.assertEqual((session["capacity"], session["topics"], session["start"]),
                         (20, ["familie-kita", "kita-grundschule"], "2028-03-11T09:00:00Z"))

        # Bad input comes back naming the field, and nothing is made
        path = "/verwaltung/veranstaltung/%s/neu" % event_id
        for field, value, words in (("capacity", "viele", "eine ganze Zahl"),
                                    ("start", "morgen", "Datum und Uhrzeit"),
                                    ("title", "", "Bitte ausfüllen"),
                                    ("topics", "mond", "eine der Möglichkeiten")):
            fields = [("title", "Zweites"), ("room", "B202"), ("start", "2028-03-11T10:00"),
                      ("end", "2028-03-11T11:00"), ("capacity", "10")]
            fields = [(k, v) for k, v in fields if k != field] + [(field, value)]
            _, body, _ = self.send_form(path, cookie, fields, status=400)
            self.assertRegex(body, r'(?s)aria-describedby="e-%s".*%s'
                             % (field, words))
            self.assertIn('value="B202"' if field != "room" else "", body)
        # The scheduler refuses the room taken at that time, in words
        _, body, _ = self.send_form(path, cookie, [
            ("title", "Doppelt"), ("room", "A101"), ("start", "2028-03-11T10:30"),
            ("end", "2028-03-11T11:30"), ("capacity", "10")], status=409)
        self.assertIn("Der Raum ist zu dieser Zeit schon belegt", body)
        code, sessions, err = self.schalt_json("session", "list", "--event", event_id)
        self.assertEqual([s["id"] for s in sessions], [session_id])

        # A change sends what differs; the page holds what the scheduler holds
        page = self.dashboard("/verwaltung/angebot/%s/bearbeiten" % session_id, cookie)
        self.assertIn('value="2028-03-11T10:00"', page)
        self.assertIn('value="kita-grundschule" checked', page)
        location, _, sent = self.send_form("/verwaltung/angebot/%s/bearbeiten" % session_id,
                                           cookie, [
            ("title", "Sprachförderung"), ("room", "A101"), ("start", "2028-03-11T10:00"),
            ("end", "2028-03-11T11:00"), ("capacity", "30"), ("topics", "familie-kita"),
            ("topics", "kita-grundschule")])
        self.assertEqual(location, "/verwaltung/angebot/" + session_id)
        self.assertEqual(self.schalt_json("session", "get", session_id)[1]["capacity"], 30)
        code, entries, err = self.schalt_json("audit", "--service", "scheduler", "--object",
                                              session_id)
        updates = [e for e in entries if e["command"] == "session.update"]
        self.assertEqual([(e["user"], e["status"]) for e in updates], [("erika", 200)])

        # The office registers a person by phone: the seat and the e-mail follow
        location, _, _ = self.send_form("/verwaltung/angebot/%s/anmelden" % session_id, cookie, [
            ("name", "Oma Ilse"), ("email", "ilse@phone.example"), ("institution", ""),
            ("language", "de")])
        self.assertEqual(location, "/verwaltung/angebot/" + session_id)
        self.wait_for_facts(session_id, lambda listed: [
            r["name"] for r in listed["confirmed"]] == ["Oma Ilse"])
        self.assertTrue(self.mail_of("ilse@phone.example", "Anmeldebestätigung", 1))

        # Cancelled with a reason, which the e-mail carries
        location, _, _ = self.send_form("/verwaltung/angebot/%s/absagen" % session_id, cookie,
                                        [("reason", "Die Referentin ist krank.")])
        self.assertEqual(location, "/verwaltung")
        self.assertEqual(self.schalt_json("session", "get", session_id)[1]["status"],
                         "cancelled")
        mails = self.mails_to("ilse@phone.example", 2)
        self.assertTrue(any("Die Referentin ist krank." in
                            m.parse().get_body(preferencelist=("plain",)).get_content()
                            for m in mails), [str(m.parse()["Subject"]) for m in mails])
        location, _, _ = self.send_form("/verwaltung/veranstaltung/%s/absagen" % event_id,
                                        cookie, [("reason", "")])
        self.assertEqual(self.schalt_json("event", "get", event_id)[1]["status"], "cancelled")

        # Without a login, a form changes nothing
        code, headers, _ = self.web.post("/verwaltung/veranstaltung/neu", sent)
        self.assertEqual((code, headers.get("location")), (303, "/verwaltung/anmelden"))


if __name__ == "__main__":
    unittest.main()
