"""test_redis_restart - the scheduler when its Redis dies under it and comes back.

redis-server runs with AOF and appendfsync always, so everything the scheduler
acknowledged is on disk. The test kills it with SIGKILL (no chance to write
anything more), checks that requests meanwhile are refused (exit 1 with 503, or
3 if no answer) and leave nothing half-done, starts redis-server again on the
same port and folder, and checks, without restarting the scheduler, that it
serves again within a bounded wait and that every acknowledged event is there.
"""

import re
import unittest

import harness
from harness import new_request_id

RECOVERY_TIMEOUT = 20.0  # seconds the scheduler may take to find Redis again


class RedisRestartTest(harness.E2ETestCase):

    SCHEDULER_ENV = {"SCHALT_SCHEDULER_REDIS_TIMEOUT": "500"}

    def redis_state(self):
        """Redis's state as `schalt status` shows it in the scheduler's row:
        "up", "down", or None if the scheduler did not answer."""
        _, out, _ = self.schalt("status", SCHALT_CLI_TIMEOUT=500)
        row = harness.status_rows(out).get("rows", {}).get("scheduler", "")
        match = re.search(r"\s(up|down) \(127\.0\.0\.1:%d\)" % self.redis.port, row)
        return match and match.group(1)

    def assertUnavailable(self, result):
        """A request while Redis is down: refused with 503 (exit 1), or no
        answer at all (exit 3); never done."""
        code, out, err = result
        self.assertIn(code, (1, 3), "stdout=%r stderr=%r" % (out, err))
        if code == 1:
            self.assertRegex(err, r"refused \(503 \w+\)")
        self.assertEqual(out, "")

    def test_acknowledged_events_survive_kill_9(self):
        self.addCleanup(self._restart_redis)
        # 50 events, each acknowledged to the user with its id
        acknowledged = {}
        for number in range(50):
            day = 1 + number % 28
            start = "2027-02-%02dT%02d:00" % (day, 8 + number % 9)
            end = "2027-02-%02dT%02d:30" % (day, 8 + number % 9)
            event = self.create_event("Beständig %02d" % number, start, end, "meeting")
            acknowledged[event["id"]] = event
        self.assertEqual(len(acknowledged), 50)
        event_id = next(iter(acknowledged))
        session = self.create_session(event_id, "Sitzung", "R1", "2027-02-01T08:00",
                                      "2027-02-01T08:30")
        before = self.redis.snapshot(with_requests=False)

        self.redis.kill()
        self.assertFalse(self.redis.started())

        # Meanwhile: refused (or unanswered), with nothing done
        short = {"SCHALT_CLI_TIMEOUT": 2000, "SCHALT_CLI_RETRIES": 1}
        self.assertUnavailable(self.schalt(
            "event", "create", "--kind", "other", "--title", "Während des Ausfalls", "--start",
            "2027-02-10T10:00", "--end", "2027-02-10T11:00", "--place", "Aula", **short))
        self.assertUnavailable(self.schalt("event", "cancel", event_id, **short))
        self.assertUnavailable(self.schalt("session", "update", session["id"], "--capacity", "99",
                                           **short))
        self.assertUnavailable(self.schalt("event", "list", **short))
        # The daemon itself still answers and says Redis is down
        self.assertEqual(harness.wait_until(lambda: self.redis_state() == "down", 10), True)
        # A raw request that is refused now, to retry later with the same id
        retry_id = new_request_id()
        body = {"kind": "other", "title": "Später", "place": "Aula",
                "start": "2027-02-11T09:00:00Z", "end": "2027-02-11T10:00:00Z"}
        refused = self.request("event.create", body, retry_id, retry_unavailable=0)
        self.assertEqual(refused.status, 503, refused)

        # Redis back on the same port and folder; the scheduler is not restarted
        pid = self.scheduler.proc.pid
        self.redis.start(self.redis.port)
        self.assertTrue(harness.wait_until(lambda: self.redis_state() == "up", RECOVERY_TIMEOUT),
                        "the scheduler did not reconnect:\n" + self.scheduler.log_text())
        self.assertTrue(self.scheduler.running())
        self.assertEqual(self.scheduler.status()["pid"], pid)

        # Every acknowledged event is there, unchanged; nothing of the refused ones
        self.assertEqual(self.redis.snapshot(with_requests=False), before)
        code, listed, err = self.schalt_json("event", "list", "--from", "2027-02-01T00:00", "--to",
                                             "2027-03-01T00:00")
        self.assertEqual(code, 0, err)
        by_id = {event["id"]: event for event in listed}
        self.assertEqual(set(by_id), set(acknowledged))
        for event_id_, event in acknowledged.items():
            self.assertEqual(by_id[event_id_], event)
        code, got, err = self.schalt_json("session", "get", session["id"])
        self.assertEqual((code, got), (0, session), err)

        # And it serves changes again: the refused request, retried with its id, is done once
        done = self.request("event.create", body, retry_id)
        self.assertEqual(done.status, 201, done)
        self.assertEqual(self.request("event.create", body, retry_id).frames, done.frames)
        titles = [stored["title"] for stored in self.redis.stored_events().values()]
        self.assertEqual(titles.count("Später"), 1)
        self.assertNotIn("Während des Ausfalls", titles)
        new = self.create_event("Nach dem Neustart", "2027-02-12T09:00", "2027-02-12T10:00")
        self.assertRegex(new["id"], r"^evt-")

    def test_status_reports_redis_error(self):
        """While Redis is down, status says so and names the last error."""
        self.redis.kill()
        self.addCleanup(self._restart_redis)
        self.assertTrue(harness.wait_until(lambda: self.redis_state() == "down", 10))
        code, out, err = self.schalt("status", SCHALT_CLI_TIMEOUT=1000)
        rows = harness.status_rows(out)
        self.assertRegex(rows["rows"]["scheduler"],
                         r"^scheduler\s+running\s+.*down \(127\.0\.0\.1:%d\)" % self.redis.port)
        self.assertEqual(code, 0 if not rows.get("no answer") else 3, out + err)
        status = self.scheduler.status()
        self.assertTrue(status["redis"]["error"], status)

    def _restart_redis(self):
        if not self.redis.started():
            self.redis.start(self.redis.port)
            harness.wait_until(lambda: self.redis_state() == "up", RECOVERY_TIMEOUT)


if __name__ == "__main__":
    unittest.main()
