#!/usr/bin/python3
"""reminder_storm - the reminder timeline under load (run by tests/bench/reminder-storm, never
by the test suite: its figures depend on the machine).

It starts its own Redis (deploy/redis.conf, so with appendfsync always, as installed), an
SMTP sink (postfix's smtp-sink if installed, else tests/bench/smtp_sink.py) and the three
daemons, in a test configuration so that their clocks can be moved. Then:

1. plans 100,000 reminders: 2,000 sessions (40 Day of Education events of 50 sessions) with
   50 registrants each and a reminder 1 day before (--reminders 1d); 200 of the sessions
   begin within one minute of each other, so that 10,000 reminders fall due in that minute;
2. waits until every confirmation has reached the sink and the timeline is planned, then
   measures, for IDLE seconds in which no reminder is due, the scheduler's CPU (percent of
   one core) and resident memory, and Redis's memory for the timeline (MEMORY USAGE of its
   index and of the plan) per planned reminder;
3. moves the scheduler's and the registry's clocks to two seconds before the first of the
   10,000 falls due and lets the minute pass in real time; each reminder's latency is the
   moment the sink accepted it less the moment it fell due (the clock's offset taken out);
4. prints p50, p99 and the maximum, and checks that every one of the 10,000 arrived once.

Usage: tests/bench/reminder-storm [--sessions N] [--people N] [--storm N] [--idle S]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402  (the test harness: daemons on free ports, stopped by pid)
import zmq  # noqa: E402

SMTP_SINK = "/usr/sbin/smtp-sink"
UTC = datetime.timezone.utc


def say(text):
    print(text, flush=True)


def rfc3339(seconds):
    return datetime.datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Client:
    """A DEALER with many requests in flight: send() queues, drain() collects replies."""

    def __init__(self, context, endpoint, window=500):
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SNDHWM, 0)
        self.socket.setsockopt(zmq.RCVHWM, 0)
        harness.curve_client(self.socket, endpoint)  # an admin's key, as the tests use
        self.socket.connect(endpoint)
        self.window = window
        self.out = 0
        self.replies = {}
        self.serial = 0

    def send(self, command, body):
        self.serial += 1
        request_id = "bench-%d-%d" % (os.getpid(), self.serial)
        while self.out >= self.window:
            self._take(10.0)
        self.socket.send_multipart([b"SCHALT/1", command.encode(), request_id.encode(),
                                    json.dumps(body).encode()])
        self.out += 1
        return request_id

    def _take(self, timeout):
        if not self.socket.poll(int(timeout * 1000)):
            raise RuntimeError("no reply within %.0f s (%d in flight)" % (timeout, self.out))
        frames = self.socket.recv_multipart()
        self.replies[frames[2].decode()] = (int(frames[1]), json.loads(frames[3]))
        self.out -= 1

    def drain(self):
        while self.out:
            self._take(30.0)

    def ask(self, command, body):
        request_id = self.send(command, body)
        self.drain()
        status, reply = self.replies.pop(request_id)
        if status >= 300:
            raise RuntimeError("%s refused: %d %s" % (command, status, reply))
        return reply


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, q):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]


class Sink:
    """The SMTP sink: postfix's smtp-sink (a file per message in tmpfs) or smtp_sink.py."""

    def __init__(self, workdir):
        self.port = harness.free_port()
        self.workdir = workdir
        self.postfix = os.access(SMTP_SINK, os.X_OK)
        if self.postfix:
            self.folder = tempfile.mkdtemp(prefix="reminder-storm-mail-", dir="/dev/shm")
            user = "root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")
            argv = [SMTP_SINK, "-u", user, "-h", "localhost", "-d",
                    os.path.join(self.folder, "m."), "127.0.0.1:%d" % self.port, "256"]
        else:
            self.folder = None
            self.lines = os.path.join(workdir, "mail.txt")
            argv = ["/usr/bin/python3", os.path.join(HERE, "smtp_sink.py"), str(self.port),
                    self.lines]
        self.proc = harness.spawn(argv, log_path=os.path.join(workdir, "sink.log"))
        if not harness.wait_until(self._listening, 15):
            raise RuntimeError("the SMTP sink did not start")

    def _listening(self):
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def count(self):
        if self.postfix:
            return len(os.listdir(self.folder))
        try:
            with open(self.lines) as lines:
                return sum(1 for _ in lines)
        except FileNotFoundError:
            return 0

    def clear(self):
        if self.postfix:
            for name in os.listdir(self.folder):
                os.unlink(os.path.join(self.folder, name))
        else:
            open(self.lines, "w").close()

    def messages(self):
        """[(accepted at, Message-ID)] of what is in the sink now."""
        found = []
        if not self.postfix:
            with open(self.lines) as lines:
                for line in lines:
                    at, message_id = line.split()
                    found.append((float(at), message_id))
            return found
        for name in os.listdir(self.folder):
            path = os.path.join(self.folder, name)
            message_id = "<none>"
            with open(path, "rb") as message:
                for line in message:
                    if line.lower().startswith(b"message-id:"):
                        message_id = line.split(b":", 1)[1].strip().decode()
                        break
                    if line in (b"\r\n", b"\n"):
                        break
            found.append((os.stat(path).st_mtime, message_id))
        return found

    def stop(self):
        harness.stop_process(self.proc)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description="the reminder timeline under load")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--people", type=int, default=50, help="registrants per session")
    parser.add_argument("--storm", type=int, default=200,
                        help="sessions whose reminders fall due within one minute")
    parser.add_argument("--idle", type=int, default=10, help="seconds of the idle measurement")
    args = parser.parse_args()
    per_event = 50
    events = (args.sessions + per_event - 1) // per_event

    workdir = tempfile.mkdtemp(prefix="reminder-storm-")
    procs = []
    try:
        # Redis as installed (deploy/redis.conf), on a free port, its data here
        redis = harness.RedisServer(workdir)
        redis.port = harness.free_port()
        redis.proc = harness.spawn(
            [harness.REDIS_SERVER, os.path.join(harness.SOURCE, "deploy", "redis.conf"),
             "--port", str(redis.port), "--dir", redis.dir], log_path=redis.log)
        procs.append(redis.proc)
        if not harness.wait_until(redis._ready, 15):
            raise RuntimeError("redis did not start")
        # Redis reports what stalled it (fork, AOF rewrite, fsync) past 100 ms
        redis.command("CONFIG", "SET", "latency-monitor-threshold", "100")
        sink = Sink(workdir)
        test_clock = {"SCHALT_SCHALTSTELLE_TEST_CLOCK": "settable"}
        scheduler = harness.Scheduler(workdir, redis, test_clock)
        settings = {
            "SCHALT_NOTIFIER_SMTP_HOST": "127.0.0.1", "SCHALT_NOTIFIER_SMTP_PORT": str(sink.port),
            "SCHALT_NOTIFIER_SMTP_STARTTLS": "none",
            "SCHALT_NOTIFIER_TEMPLATES": os.path.join(harness.SOURCE, "templates"),
            "SCHALT_NOTIFIER_FROM_ADDRESS": "bildungsbuero@pulheim.example",
            "SCHALT_NOTIFIER_FROM_NAME": "Bildungsbüro Pulheim",
            "SCHALT_NOTIFIER_OFFICE_CONTACT": "Bildungsbüro, Tel. 02238 808-0",
            "SCHALT_SCHALTSTELLE_TEST_CLOCK": "settable", "SCHALT_SCHALTSTELLE_LOG_LEVEL": "warning"}
        scheduler.extra["SCHALT_SCHALTSTELLE_LOG_LEVEL"] = "warning"
        scheduler.start()
        registry = harness.Daemon("registry", workdir, scheduler, dict(test_clock, **{
            "SCHALT_SCHALTSTELLE_LOG_LEVEL": "warning"}))
        registry.start()
        notifier = harness.Daemon("notifier", workdir, scheduler, settings)
        notifier.start()
        procs += [scheduler.proc, registry.proc, notifier.proc]
        context = zmq.Context()
        to_scheduler = Client(context, scheduler.endpoint)
        to_registry = Client(context, registry.endpoint)

        # 1. The sessions: the storm's begin within one minute on 10 June 2027, 10:00 UTC;
        # the others on later days, so that their reminders are far away
        started = time.monotonic()
        storm_start = int(datetime.datetime(2027, 6, 10, 10, 0, tzinfo=UTC).timestamp())
        sessions = []  # (id, start)
        for event_index in range(events):
            day = storm_start - 3600 + 86400 * (event_index // 4)
            event = to_scheduler.ask("event.create", {
                "kind": "day-of-education", "title": "Tag der Bildung %d" % event_index,
                "place": "Rathaus", "start": rfc3339(day), "end": rfc3339(day + 43200),
                "reminders": "1d"})["event"]
            for index in range(per_event):
                number = event_index * per_event + index
                if number >= args.sessions:
                    break
                if number < args.storm:
                    start = storm_start + (60 * number) // args.storm
                else:
                    start = day + 7200 + 600 * (index % 30)
                session = to_scheduler.ask("session.create", {
                    "event": event["id"], "title": "Angebot %d" % number,
                    "room": "R%d" % index, "start": rfc3339(start), "end": rfc3339(start + 3600),
                    "capacity": args.people})["session"]
                sessions.append((session["id"], start))
        say("%d sessions in %d events: %.1f s" % (len(sessions), events,
                                                time.monotonic() - started))

        def announced():  # the registry has every session's facts
            outbox = ((harness.daemon_status(scheduler.endpoint) or {}).get("outboxes")
                      or {}).get("registry") or {}
            return outbox.get("depth") == 0 and not outbox.get("in_flight")
        if not harness.wait_until(announced, 120, interval=0.2):
            raise RuntimeError("the registry did not learn every session")

        # Their registrants, many requests in flight
        started = time.monotonic()
        due_of = {}  # registration id -> when its reminder falls due (clock seconds)
        pending = {}
        for number, (session_id, start) in enumerate(sessions):
            for person in range(args.people):
                request_id = to_registry.send("registration.create", {
                    "session": session_id, "name": "Person %d-%d" % (number, person),
                    "email": "p%d.%d@storm.example" % (number, person)})
                pending[request_id] = start - 86400
        to_registry.drain()
        for request_id, due in pending.items():
            status, reply = to_registry.replies[request_id]
            if status != 201 or reply["registration"]["status"] != "confirmed":
                raise RuntimeError("registration refused: %d %s" % (status, reply))
            due_of[reply["registration"]["id"]] = due
        total = len(due_of)
        say("%d registrations in %.1f s" % (total, time.monotonic() - started))

        # 2. Every confirmation at the sink, the timeline planned
        started = time.monotonic()
        if not harness.wait_until(lambda: sink.count() >= total, 900, interval=0.5):
            raise RuntimeError("only %d of %d confirmations arrived" % (sink.count(), total))

        def planned():
            status = harness.daemon_status(scheduler.endpoint) or {}
            timeline = status.get("timeline") or {}
            return timeline.get("planned") == len(sessions) and timeline.get("to_plan") == 0
        if not harness.wait_until(planned, 120, interval=0.5):
            raise RuntimeError("the timeline was not planned: %r"
                               % harness.daemon_status(scheduler.endpoint).get("timeline"))
        say("%d confirmations delivered, %d reminders planned: %.1f s"
            % (total, len(sessions), time.monotonic() - started))
        time.sleep(2)
        sink.clear()
        cpu_before, wall_before = proc_cpu_seconds(scheduler.proc.pid), time.monotonic()
        time.sleep(args.idle)
        idle_cpu = (proc_cpu_seconds(scheduler.proc.pid) - cpu_before) \
            / (time.monotonic() - wall_before) * 100
        idle_rss = proc_rss_mib(scheduler.proc.pid)
        timeline_bytes = sum(redis.command("MEMORY", "USAGE", key, "SAMPLES", "0") or 0
                             for key in ("scheduler:{events}:timeline", "scheduler:{events}:plan"))
        # Each session also names its planned reminders ("planned", a field of its hash)
        planned_field = sum(len(redis.command("HGET", "scheduler:{events}:session:" + sid,
                                              "planned") or b"") + 16 for sid, _ in sessions)

        # 3. The storm: both clocks to two seconds before the first falls due
        storm_due = [due for due in due_of.values() if due < storm_start - 86400 + 60]
        first = min(storm_due)
        target = first - 2
        offset = None
        for daemon in (scheduler, registry):
            dealer = harness.Dealer(context, daemon.endpoint)
            reply = dealer.request("clock.set", {"now": rfc3339(target)})
            dealer.close()
            if reply.status != 200:
                raise RuntimeError("clock.set refused: %r" % (reply,))
            if offset is None:
                # The scheduler's clock reads the system's seconds plus this
                # offset: a reminder is due when the real time passes due - offset
                offset = reply.body["offset"]
        cpu_before, wall_before = proc_cpu_seconds(scheduler.proc.pid), time.monotonic()
        expected = len(storm_due)
        if not harness.wait_until(lambda: sink.count() >= expected, 300, interval=0.2):
            say("only %d of %d reminders arrived" % (sink.count(), expected))
        storm_cpu = (proc_cpu_seconds(scheduler.proc.pid) - cpu_before) \
            / (time.monotonic() - wall_before) * 100
        time.sleep(2)  # nothing more may come

        # 4. Latencies, from each message's id (ntc-<registration>-rem-1d-r<revision>)
        latencies, seen, wrong = [], set(), 0
        for accepted, message_id in sink.messages():
            token = message_id.strip("<>").split("@")[0]
            if not token.startswith("ntc-") or "-rem-" not in token:
                wrong += 1
                continue
            registration = "reg-" + token[4:].split("-rem-")[0]
            if token in seen or registration not in due_of:
                wrong += 1
                continue
            seen.add(token)
            due_real = due_of[registration] - offset
            latencies.append(accepted - due_real)
        if os.environ.get("STORM_DEBUG"):
            late = sorted(latencies)[-5:]
            say("debug: latest %r" % late)
            by_second = {}
            for accepted, message_id in sink.messages():
                token = message_id.strip("<>").split("@")[0]
                registration = "reg-" + token[4:].split("-rem-")[0]
                if registration in due_of:
                    second = int(due_of[registration] - offset - (first - offset))
                    by_second.setdefault(second, []).append(accepted - (due_of[registration] - offset))
            info = redis.command("INFO", "persistence").decode()
            say("debug: " + " ".join(line for line in info.split("\r\n")
                                     if line.startswith(("aof_rewrites", "latest_fork_usec",
                                                         "aof_current_size", "aof_delayed"))))
            say("debug: worst latency by due second: %s" % " ".join(
                "%d:%.1f" % (second, max(values)) for second, values in sorted(by_second.items())))
            arrivals = sorted(accepted for accepted, _ in sink.messages())
            say("debug: clock set at %.3f (offset %.3f), first due (real) %.3f, last %.3f; "
                "arrivals %.3f .. %.3f" % (target - offset, offset, first - offset,
                                           max(storm_due) - offset, arrivals[0], arrivals[-1]))
        say("")
        say("reminder-storm: %d sessions x %d registrants = %d reminders planned; %d due "
            "within one minute" % (len(sessions), args.people, total, expected))
        say("  due -> SMTP acceptance: p50 %.3f s, p99 %.3f s, max %.3f s (%d arrived, %d "
            "missing, %d duplicate or unexpected)"
            % (percentile(latencies, 0.5), percentile(latencies, 0.99), max(latencies or [0]),
               len(latencies), expected - len(latencies), wrong))
        say("  scheduler while %d reminders wait and none is due: %.2f %% of a core, "
            "%.1f MiB resident" % (total, idle_cpu, idle_rss))
        say("  scheduler during the storm: %.1f %% of a core" % storm_cpu)
        say("  Redis for the timeline: %d bytes (index and plan) + %d (sessions' planned field) "
            "= %.1f bytes per planned reminder (%.0f per session's entry)"
            % (timeline_bytes, planned_field, (timeline_bytes + planned_field) / total,
               (timeline_bytes + planned_field) / len(sessions)))
        say("  sink: %s" % ("postfix smtp-sink" if sink.postfix else "tests/bench/smtp_sink.py"))
        stalls = redis.command("LATENCY", "LATEST") or []
        say("  Redis stalls over 100 ms in the whole run (LATENCY LATEST: event, latest, max ms): %s"
            % (", ".join("%s %d/%d" % (event[0].decode(), event[2], event[3]) for event in stalls)
               or "none"))
        return 0 if len(latencies) == expected and wrong == 0 else 1
    finally:
        for proc in reversed(procs):
            harness.stop_process(proc)
        try:
            sink.stop()
        except NameError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
