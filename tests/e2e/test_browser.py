"""test_browser - the web front in a real browser: Debian's Chromium, headless, driven by
Debian's python3-selenium through chromedriver, against the real daemons, Redis and SMTP
server this test starts.

A visitor finds the Day of Education in the catalogue, ticks two of its sessions and
registers with the keyboard alone; reads the e-mail from the SMTP server's store, follows
its cancel link, confirms, and the first waiting person gets the seat. An organiser logs
in, creates a session through the form, watches its fill level change while a second
browser registers (without reloading), and checks the person in at the door on a
phone-sized window. On every page axe-core (from the npm registry; tests/run installs it)
reports no violation of WCAG 2.1 A and AA. Each step's screenshot is kept in
build/screenshots/ (the artefacts of the run).
"""

import os
import re
import shutil
import tempfile
import time
import unittest

import harness
from test_lifecycle import LINK
from test_web_dashboard import PASSWORD, DashboardCase

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = os.path.join(os.path.dirname(harness.BIN), "screenshots")
AXE = os.environ.get("SCHALT_AXE") or os.path.join(
    os.path.dirname(harness.BIN), "npm", "node_modules", "axe-core", "axe.min.js")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Browser:
    """One headless Chromium with a profile of its own, stopped (by its driver's pid)
    when the test ends."""

    def __init__(self, case, width=1280, height=900):
        self.case = case
        self.profile = tempfile.mkdtemp(prefix="schalt-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-background-networking", "--lang=de-DE",
                         "--window-size=%d,%d" % (width, height),
                         "--user-data-dir=" + self.profile):
            options.add_argument(argument)
        service = Service(CHROMEDRIVER, port=harness.free_port())
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(20)
        case.addCleanup(self.quit)

    def quit(self):
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, path):
        self.driver.get("http://127.0.0.1:%d%s" % (self.case.web.port, path))

    def shot(self, name):
        """Keeps a screenshot of the page as it is, and checks it with axe-core."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))
        self.case.accessible(self, name)

    def tab_to(self, element_id, limit=80):
        """Presses Tab until the element has the focus (as a keyboard user does);
        fails if it never gets it."""
        body = self.driver.find_element(By.TAG_NAME, "body")
        for _ in range(limit):
            active = self.driver.switch_to.active_element
            if active.get_attribute("id") == element_id:
                return active
            (active if active else body).send_keys(Keys.TAB)
        self.case.fail("Tab never reached #%s" % element_id)

    def tab_to_button(self, words, limit=80):
        """Presses Tab until the button that says words has the focus."""
        for _ in range(limit):
            active = self.driver.switch_to.active_element
            if active.tag_name == "button" and active.text.strip() == words:
                return active
            active.send_keys(Keys.TAB)
        self.case.fail("Tab never reached the button %r" % words)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "main").text

    def wait(self, predicate, what, timeout=10):
        """Waits until predicate(driver); fails with what the page says if it does not."""
        try:
            WebDriverWait(self.driver, timeout).until(predicate)
        except Exception:
            self.case.fail("%s did not happen at %s; the page says:\n%s\n%s"
                           % (what, self.driver.current_url, self.text()[:2000],
                              harness.tail(self.case.web.log)))


@unittest.skipUnless(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
                     "Debian's chromium and chromium-driver are not installed (tests/run "
                     "installs them)")
class BrowserTest(DashboardCase):

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(AXE):
            raise RuntimeError("axe-core is missing at %s (tests/run installs it from the npm "
                               "registry)" % AXE)
        with open(AXE, encoding="utf-8") as source:
            cls.axe_source = source.read()
        super().setUpClass()

    def accessible(self, browser, name):
        """axe-core in the page: no violation of WCAG 2.1 A and AA."""
        driver = browser.driver
        driver.execute_script(self.axe_source)
        result = driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(function (r) { done({passes: r.passes.length,"
            "  violations: r.violations.map(function (v) {"
            "  return v.id + ': ' + v.help + ' at ' + v.nodes.map(function (n) {"
            "    return n.target.join(' '); }).join(', '); })}); })"
            ".catch(function (e) { done({passes: 0, violations: ['axe failed: ' + e]}); });",
            WCAG)
        self.assertEqual(result["violations"], [], "%s (%s)" % (name, driver.current_url))
        self.assertGreater(result["passes"], 5, "axe checked nothing on %s" % name)

    def web_link(self, url):
        """A link of an e-mail, pointed at this test's web front (the e-mails use
        web/base_url, the address an installation's browsers reach)."""
        return re.sub(r"^http://127\.0\.0\.1:8080", "", url)

    def test_a_visitor_registers_cancels_and_the_waiting_move_up(self):
        event, sessions = self.day_of_education("Tag der Bildung 2027 im Browser")
        visitor = Browser(self)
        visitor.open("/")
        visitor.shot("01-catalogue")
        visitor.driver.find_element(By.LINK_TEXT, "Tag der Bildung 2027 im Browser").click()
        WebDriverWait(visitor.driver, 10).until(lambda d: "/veranstaltung/" in d.current_url)
        visitor.shot("02-event-grid")

        # With the keyboard alone: two sessions, the fields, the privacy notice, send
        first, last = sessions[0]["id"], sessions[3]["id"]  # 10:00 in A101; 13:00, one seat
        visitor.tab_to("s-" + first).send_keys(Keys.SPACE)
        visitor.tab_to("s-" + last).send_keys(Keys.SPACE)
        visitor.tab_to("name").send_keys("Erika Browser")
        visitor.tab_to("email").send_keys("erika@browser.example")
        visitor.tab_to("institution").send_keys("Kita Regenbogen")
        visitor.tab_to("privacy").send_keys(Keys.SPACE)
        visitor.shot("03-form-filled")
        visitor.tab_to_button("Verbindlich anmelden").send_keys(Keys.ENTER)
        visitor.wait(lambda d: "Vielen Dank für Ihre Anmeldung" in d.page_source,
                     "the registration")
        visitor.shot("04-registered")
        self.assertRegex(visitor.text(), r"Berufsorientierung.*\n?.*Platz reserviert")

        # Someone else waits for the seat of the last session
        self.register_json(last, "Jan Warte", "jan@browser.example")
        mail = self.mail_of("erika@browser.example", "Ihre Anmeldungen", 1)
        links = [m.group(0) for m in LINK.finditer(mail.text())
                 if m.group(1) == "cancel"]
        self.assertEqual(len(links), 2, mail.text())
        # Each session has its own link; the one after "Berufsorientierung"
        text = mail.text()
        link = min(links, key=lambda url: abs(text.index(url) - text.index("Berufsorientierung")))
        visitor.open(self.web_link(link))
        visitor.shot("05-cancel-link")
        self.assertIn("Berufsorientierung", visitor.text())
        self.assertEqual(self.registry_list(last)["confirmed"][0]["name"], "Erika Browser")
        visitor.driver.find_element(By.CSS_SELECTOR, "main form button").click()
        visitor.wait(lambda d: "Ihre Anmeldung ist abgesagt" in d.page_source, "the cancelling")
        visitor.shot("06-cancelled")
        listed = self.registry_list(last)
        self.assertEqual([r["name"] for r in listed["confirmed"] + listed["offered"]],
                         ["Jan Warte"])
        self.assertEqual(listed["waitlist"], [])

    def test_an_organiser_creates_a_session_watches_it_fill_and_checks_in(self):
        self.add_user("olga", password=PASSWORD)
        event = self.create_event("Fachtag Übergänge", "2027-04-20T09:00", "2027-04-20T16:00",
                                  kind="other", place="VHS Pulheim")
        organiser = Browser(self)
        organiser.open("/verwaltung")
        WebDriverWait(organiser.driver, 10).until(lambda d: "/verwaltung/anmelden" in
                                                  d.current_url)
        organiser.shot("11-login")
        organiser.driver.find_element(By.ID, "name").send_keys("olga")
        organiser.driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
        WebDriverWait(organiser.driver, 10).until(lambda d: "Angemeldet als" in d.page_source)
        organiser.shot("12-overview")

        # A new session through the form
        organiser.open("/verwaltung/veranstaltung/%s/neu" % event["id"])
        organiser.shot("13-session-form")
        for name, value in (("title", "Elternabend Übergang"), ("room", "Saal 1"),
                            ("start", "20.04.2027 10:00"), ("end", "20.04.2027 11:30"),
                            ("capacity", "2")):
            field = organiser.driver.find_element(By.ID, "f-" + name)
            organiser.driver.execute_script("arguments[0].type = 'text';", field)
            field.clear()
            field.send_keys(value)
        organiser.driver.find_element(By.ID, "f-topics-schule-beruf").click()
        organiser.driver.find_element(By.CSS_SELECTOR, "form.office button").click()
        organiser.wait(lambda d: "/verwaltung/angebot/" in d.current_url, "the new session")
        session_id = organiser.driver.current_url.rsplit("/", 1)[1]
        self.wait_for_facts(session_id, lambda listed: True)

        # The overview, while a second browser registers: the row changes by itself
        organiser.open("/verwaltung")
        row = organiser.driver.find_element(By.ID, "fill-" + session_id)
        self.assertEqual(row.find_element(By.CLASS_NAME, "taken").text, "0")
        time.sleep(0.5)  # the page's stream is open
        visitor = Browser(self)
        visitor.open("/veranstaltung/" + event["id"])
        visitor.driver.find_element(By.ID, "s-" + session_id).click()
        visitor.driver.find_element(By.ID, "name").send_keys("Paul Pünktlich")
        visitor.driver.find_element(By.ID, "email").send_keys("paul@browser.example")
        visitor.driver.find_element(By.ID, "privacy").click()
        visitor.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
        WebDriverWait(visitor.driver, 10).until(
            lambda d: "Vielen Dank für Ihre Anmeldung" in d.page_source)
        WebDriverWait(organiser.driver, 10).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "#fill-%s .taken" % session_id).text == "1")
        organiser.shot("14-overview-live")
        self.assertIn("fill-" + session_id, organiser.driver.page_source)

        # The session's people, and the e-mails with their delivery state
        organiser.open("/verwaltung/angebot/" + session_id)
        self.assertIn("Paul Pünktlich", organiser.text())
        organiser.shot("15-session-people")
        self.mails_to("paul@browser.example", 1)
        organiser.open("/verwaltung/mitteilungen")
        self.assertIn("paul@browser.example", organiser.text())
        organiser.shot("16-notices")

        # At the door, on a phone: search, one click marks present
        organiser.driver.set_window_size(390, 844)
        organiser.open("/verwaltung/einlass/" + session_id)
        organiser.driver.find_element(By.ID, "q").send_keys("Paul" + Keys.ENTER)
        WebDriverWait(organiser.driver, 10).until(lambda d: "q=Paul" in d.current_url)
        organiser.shot("17-checkin-search")
        organiser.driver.find_element(By.CSS_SELECTOR, ".checkin button").click()
        WebDriverWait(organiser.driver, 10).until(
            lambda d: "Paul Pünktlich: eingecheckt." in d.page_source)
        organiser.shot("18-checked-in")
        checked = self.registry_list(session_id)["confirmed"]
        self.assertIn("checked_in", checked[0])
        width = organiser.driver.execute_script("return document.documentElement.scrollWidth")
        self.assertLessEqual(width, 390)  # fits the phone: nothing to scroll sideways


if __name__ == "__main__":
    unittest.main()
