#!/usr/bin/python3
"""web_bench - the web front under load (run by tests/bench/web-bench, never by the test
suite: its figures depend on the machine).

It starts its own Redis (deploy/redis.conf, as installed), an SMTP sink, the three daemons
and schalt-web, with CURVE as installations run, and a catalogue of EVENTS events of five
sessions. Then, with Debian's wrk:

1. the catalogue page (/): requests per second and p99 latency, beside nginx serving the
   same HTML as a static file in the same run (the target: at least 0.3 of nginx's rate);
2. the registration POST: a session of 100 seats and VISITORS visitors, each sending the
   event page's form once (its own request id and signature, collected from the page
   first): requests per second and p99, and a check that 100 got a seat and the rest a
   waitlist place, each once (compare with registration-burst's registrations/s, the
   target being at least 0.5 of it);
3. the peak resident memory of schalt-web while 2,000 connections ask for the catalogue.

Usage: tests/bench/web-bench [--events N] [--visitors N] [--seconds S]
"""

import argparse
import http.client
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import harness  # noqa: E402  (the test harness: daemons on free ports, stopped by pid)
import zmq  # noqa: E402
from reminder_storm import Client, Sink, proc_cpu_seconds, rfc3339  # noqa: E402

WRK = "/usr/bin/wrk"
NGINX = "/usr/sbin/nginx"

POST_SCRIPT = """
-- Each request sends the next visitor's form (one a line of the file BODIES);
-- once every visitor has sent theirs, the benchmark stops wrk (SIGINT), so that
-- wrk's latencies are those of the visitors' requests.
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local sent = 0
request = function()
    sent = sent + 1
    local body = bodies[math.min(sent, #bodies)]
    return wrk.format("POST", os.getenv("PAGE"),
        {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
response = function(status, headers, body)
    if status ~= 200 or not string.find(body, "Vielen Dank", 1, true) then
        local said = string.match(body, '<div class="error"[^>]*>(.-)</div>') or ""
        io.stderr:write("refused " .. status .. " " .. said:gsub("%s+", " ") .. "\\n")
    end
end
"""


def say(text):
    print(text, flush=True)


def wrk_figures(text):
    """(requests/s, p99 in ms) of wrk's output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", text, re.M)
    if not rate or not p99:
        raise RuntimeError("wrk printed no figures:\n" + text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return float(rate.group(1)), float(p99.group(1)) * scale


def wrk(url, connections, seconds, threads=2):
    """Runs wrk; returns (requests/s, p99 in ms, its output)."""
    argv = [WRK, "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency",
            "--timeout", "10s", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    text = out.stdout + out.stderr
    return wrk_figures(text) + (text,)


def wrk_until(url, connections, script, env, count, wanted, limit=600):
    """Runs wrk with script until count() reaches wanted, or stops growing for 5 s
    (polled), then stops it as Ctrl-C does; returns (seconds until the last growth,
    p99 in ms, its output)."""
    argv = [WRK, "-t1", "-c%d" % connections, "-d%ds" % limit, "--latency", "--timeout",
            "10s", "-s", script, url]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, **env))
    last, grown = 0, started
    while time.monotonic() - started < limit and proc.poll() is None:
        now = count()
        if now != last:
            last, grown = now, time.monotonic()
        if now >= wanted or (now and time.monotonic() - grown > 5):
            break
        time.sleep(0.02)
    elapsed = grown - started
    harness.stop_process(proc, signal.SIGINT)
    text = proc.stdout.read()
    return elapsed, wrk_figures(text)[1], text


def memory_kib(pid, field):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Nginx:
    """nginx serving one file as the catalogue, on a free port, stopped by its pid."""

    def __init__(self, workdir, html):
        self.port = harness.free_port()
        self.root = os.path.join(workdir, "static")
        os.makedirs(self.root)
        with open(os.path.join(self.root, "index.html"), "w", encoding="utf-8") as page:
            page.write(html)
        conf = os.path.join(workdir, "nginx.conf")
        with open(conf, "w") as out:
            out.write("""
%s
worker_processes 2;
daemon off;
pid %s/nginx.pid;
error_log %s/nginx.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %s/nginx-body;
    proxy_temp_path %s/nginx-proxy;
    fastcgi_temp_path %s/nginx-fastcgi;
    uwsgi_temp_path %s/nginx-uwsgi;
    scgi_temp_path %s/nginx-scgi;
    server {
        listen 127.0.0.1:%d;
        root %s;
        location / { default_type "text/html; charset=utf-8"; try_files /index.html =404; }
    }
}
""" % (("user root;" if os.geteuid() == 0 else ""), workdir, workdir, workdir, workdir, workdir,
       workdir, workdir, self.port, self.root))
        self.proc = harness.spawn([NGINX, "-c", conf, "-p", workdir],
                                  log_path=os.path.join(workdir, "nginx.out"))
        if not harness.wait_until(self._up, 15):
            raise RuntimeError("nginx did not start: " + harness.tail(
                os.path.join(workdir, "nginx.out")))

    def _up(self):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            connection.request("GET", "/")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def stop(self):
        harness.stop_process(self.proc)


def collect_forms(web, path, session, visitors):
    """Fetches the event page once a visitor (as each visitor's browser does) and
    returns the bodies their forms send."""
    bodies = []
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    for number in range(visitors):
        connection.request("GET", path)
        page = connection.getresponse().read().decode()
        request_id = re.search(r'name="request" value="([^"]+)"', page).group(1)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        bodies.append(urllib.parse.urlencode([
            ("session", session), ("name", "Gast %d" % number),
            ("email", "gast%d@bench.example" % number), ("institution", ""),
            ("language", "de"), ("privacy", "1"), ("request", request_id), ("csrf", csrf)]))
    connection.close()
    return bodies


def main():
    parser = argparse.ArgumentParser(description="the web front under load")
    parser.add_argument("--events", type=int, default=20, help="events in the catalogue")
    parser.add_argument("--visitors", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=10, help="of each GET measurement")
    args = parser.parse_args()
    # 2,000 connections need more descriptors than a shell's usual 1,024, here and in
    # schalt-web (which inherits them)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    workdir = tempfile.mkdtemp(prefix="web-bench-")
    stops = []
    try:
        harness.KEYS.make()
        redis = harness.RedisServer(workdir)
        redis.port = harness.free_port()
        redis.proc = harness.spawn(
            [harness.REDIS_SERVER, os.path.join(harness.SOURCE, "deploy", "redis.conf"),
             "--port", str(redis.port), "--dir", redis.dir], log_path=redis.log)
        stops.append(redis.proc)
        if not harness.wait_until(redis._ready, 15):
            raise RuntimeError("redis did not start")
        sink = Sink(workdir)
        quiet = {"SCHALT_SCHALTSTELLE_LOG_LEVEL": "warning"}
        scheduler = harness.Scheduler(workdir, redis, quiet)
        scheduler.start()
        registry = harness.Daemon("registry", workdir, scheduler, quiet)
        registry.start()
        notifier = harness.Daemon("notifier", workdir, scheduler, dict(quiet, **{
            "SCHALT_NOTIFIER_SMTP_HOST": "127.0.0.1",
            "SCHALT_NOTIFIER_SMTP_PORT": str(sink.port),
            "SCHALT_NOTIFIER_SMTP_STARTTLS": "none",
            "SCHALT_NOTIFIER_TEMPLATES": os.path.join(harness.SOURCE, "templates"),
            "SCHALT_NOTIFIER_FROM_ADDRESS": "bildungsbuero@pulheim.example",
            "SCHALT_NOTIFIER_FROM_NAME": "Bildungsbüro Pulheim",
            "SCHALT_NOTIFIER_OFFICE_CONTACT": "Bildungsbüro, Tel. 02238 808-0"}))
        notifier.start()
        web = harness.Web(workdir, scheduler, dict(quiet, SCHALT_WEB_CONNECTIONS="4096"))
        web.start()
        stops += [scheduler.proc, registry.proc, notifier.proc, web.proc]
        to_scheduler = Client(zmq.Context(), scheduler.endpoint)

        # The catalogue: EVENTS events in 2027, five sessions each
        for index in range(args.events):
            day = int(time.mktime((2027, 3 + index % 9, 1 + index % 27, 9, 0, 0, 0, 0, -1)))
            event = to_scheduler.ask("event.create", {
                "kind": "day-of-education" if index % 4 == 0 else "other",
                "title": "Veranstaltung %d" % index, "place": "Rathaus Pulheim",
                "provider": "Anbieter %d" % (index % 5),
                "start": rfc3339(day), "end": rfc3339(day + 8 * 3600)})["event"]
            for number in range(5):
                to_scheduler.ask("session.create", {
                    "event": event["id"], "title": "Angebot %d.%d" % (index, number),
                    "room": "Raum %d" % number, "start": rfc3339(day + 3600 + 1800 * number),
                    "end": rfc3339(day + 3600 + 1800 * number + 1700), "capacity": 25,
                    "topics": ["schule-beruf"]})
        base = "http://127.0.0.1:%d" % web.port
        code, _, html = web.get("/")
        if code != 200:
            raise RuntimeError("the catalogue answered %d" % code)
        say("catalogue: %d events, %d sessions, %d octets of HTML"
            % (args.events, args.events * 5, len(html.encode())))

        # 1. The catalogue, beside nginx's static copy of it
        nginx = Nginx(workdir, html)
        stops.append(nginx.proc)
        static_rate, static_p99, _ = wrk("http://127.0.0.1:%d/" % nginx.port, 50, args.seconds)
        rate, p99, _ = wrk(base + "/", 50, args.seconds)
        say("GET /           schalt-web %8.0f requests/s  p99 %7.2f ms" % (rate, p99))
        say("GET / (static)  nginx      %8.0f requests/s  p99 %7.2f ms" % (static_rate,
                                                                          static_p99))
        say("                ratio      %8.2f of nginx's rate (target >= 0.30)"
            % (rate / static_rate))

        # 2. The registration POST: 100 seats, VISITORS visitors
        event = to_scheduler.ask("event.create", {
            "kind": "day-of-education", "title": "Tag der Bildung (Ansturm)",
            "place": "Rathaus Pulheim", "start": rfc3339(int(time.time()) + 30 * 86400),
            "end": rfc3339(int(time.time()) + 30 * 86400 + 8 * 3600)})["event"]
        session = to_scheduler.ask("session.create", {
            "event": event["id"], "title": "Der beliebte Workshop", "room": "Saal",
            "start": rfc3339(int(time.time()) + 30 * 86400 + 3600),
            "end": rfc3339(int(time.time()) + 30 * 86400 + 7200), "capacity": 100})["session"]
        path = "/veranstaltung/" + event["id"]
        if not harness.wait_until(lambda: session["id"] in web.get(path)[2], 30):
            raise RuntimeError("the event page does not show the session")
        started = time.monotonic()
        bodies = collect_forms(web, path, session["id"], args.visitors)
        say("forms collected: %d (%.1f s, one GET of the event page each)"
            % (len(bodies), time.monotonic() - started))
        bodies_file = os.path.join(workdir, "bodies.txt")
        with open(bodies_file, "w") as out:
            #  wrk asks request() once before it starts sending (and sends not that
            #  one): the first visitor's form is there twice, as a double click
            out.write("\n".join(bodies[:1] + bodies) + "\n")
        script = os.path.join(workdir, "post.lua")
        with open(script, "w") as out:
            out.write(POST_SCRIPT)
        prefix = "registry:{%s}:session:%s:" % (event["id"], session["id"])

        def booked():
            return (redis.command("ZCARD", prefix + "confirmed") +
                    redis.command("ZCARD", prefix + "waitlist"))

        procs = {"web": web.proc, "scheduler": scheduler.proc, "registry": registry.proc,
                 "notifier": notifier.proc, "redis": redis.proc}
        cpu = {name: proc_cpu_seconds(proc.pid) for name, proc in procs.items()}
        elapsed, p99, text = wrk_until(base + path, 50, script,
                                       {"BODIES": bodies_file, "PAGE": path}, booked,
                                       len(bodies))
        cpu = {name: proc_cpu_seconds(proc.pid) - cpu[name] for name, proc in procs.items()}
        dealer = Client(zmq.Context(), registry.endpoint)
        listed = dealer.ask("registration.list", {"session": session["id"]})
        say("POST register   schalt-web %8.0f registrations/s  p99 %7.2f ms  (%d visitors "
            "in %.1f s, 50 connections)" % (len(bodies) / elapsed, p99, len(bodies), elapsed))
        say("                booked     %d seats, %d on the waitlist (expected 100 and %d)"
            % (len(listed["confirmed"]), len(listed["waitlist"]), len(bodies) - 100))
        say("                cpu s      %s  (of %.1f s wall x 2 cores)" % (
            "  ".join("%s %.2f" % (name, seconds) for name, seconds in cpu.items()), elapsed))
        refusals = re.findall(r"^refused .*$", text, re.M)
        if refusals:
            say("                refused:   %d, such as %s" % (len(refusals), refusals[:3]))

        # 3. Peak memory under 2,000 connections
        before = memory_kib(web.proc.pid, "VmRSS")
        rate, p99, _ = wrk(base + "/", 2000, args.seconds)
        say("2,000 connections: %.0f requests/s, p99 %.1f ms; schalt-web resident %d KiB "
            "before, peak %d KiB" % (rate, p99, before, memory_kib(web.proc.pid, "VmHWM")))
        say("compare the POST with registration-burst's registrations/s: tests/bench/run")
        return 0
    finally:
        for proc in reversed(stops):
            harness.stop_process(proc)
        try:
            sink.stop()
        except NameError:
            pass
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
