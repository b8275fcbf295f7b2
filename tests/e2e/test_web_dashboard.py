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
import io
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
        self.assertIn("<strong>voll</strong>", row.group(1))
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


if __name__ == "__main__":
    unittest.main()
