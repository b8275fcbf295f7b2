"""harness - what every end-to-end test of Schaltstelle shares.

The tests run the real programs against a real redis-server, the way a user or
another daemon meets them:

- free_port() and a temporary folder per server, removed at the end;
- RedisServer: a redis-server with AOF and fsync always (so it can be killed
  with SIGKILL and started again on the same folder with its data), ready when
  PING answers PONG, stopped by the pid this harness started;
- Scheduler: a schalt-scheduler pointed at that Redis on free loopback ports,
  ready when `schalt status` shows it running, stopped by its pid (SIGTERM,
  then SIGKILL); the other daemons the client knows are pointed at unused ports;
- schalt(): runs the CLI with that environment, returning (code, out, err);
- Dealer: a raw ZeroMQ DEALER for wire-level tests; Subscriber: a SUB socket;
  both CURVE clients with a key of the test's (KEYS, made once per test
  process with `schalt key create`: one per daemon, an admin's, an
  organiser's, the web front's...), of the daemon the endpoint belongs to;
- Redis state read directly with a tiny RESP client (keys, snapshots);
- check_reply(): a reply body against schemas/reply/<command>.json (or
  reply/error.json for a status of 400 and above), with jsonschema;
- Daemon: a schalt-registry or schalt-notifier on the endpoints that the
  scheduler's environment names for it (so the scheduler's relay, the
  registry's relay and the CLI find it, also after a restart), pointed at the
  same Redis, ready when it answers `status`, stopped or killed by its pid;
- MailSink: a real SMTP server (Debian's python3-aiosmtpd) in this process on
  a free loopback port, keeping every message with its arrival; it can be
  stopped and started again on the same port (a relay that is down);
- burst(): many concurrent clients, each its own DEALER, each retrying with
  the same request id after a 503 or no answer, as rule 5 allows;
- E2ETestCase: a unittest base class whose setUpClass starts one Redis and one
  scheduler for the class (and, if asked, the registry, the notifier and the
  mail sink) and registers their cleanup, which runs even when a test or
  setUpClass fails; with helpers to open a session the registry knows, ask
  the registry, and read a session's registry keys.

Settings come only from environment variables (SCHALT_CONFIG="" reads no
file). SCHALT_BIN and SCHALT_SOURCE are set by ctest; without them the
harness uses this checkout's build/bin and root.
"""

import ctypes
import datetime
import email
import email.message
import email.policy
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

import jsonschema
import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("SCHALT_SOURCE") or os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("SCHALT_BIN") or os.path.join(SOURCE, "build", "bin")
SCHEMAS = os.path.join(SOURCE, "schemas")
# True when the daemons under test are the sanitizer build (tests/CMakeLists.txt
# says so), whose allocator keeps freed memory in quarantine on purpose
SANITIZED = os.environ.get("SCHALT_SANITIZED") == "1"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

PROTOCOL = b"SCHALT/1"
PREFIX = "scheduler:{events}:"  # every key the scheduler owns starts with this


def write_token_keys(path, keys):
    """Writes a link keys file (schalt_token.h): keys is a list of (id,
    32-byte secret), the first signs. Mode 600, as the daemons insist."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        for key_id, secret in keys:
            out.write("%d %s\n" % (key_id, secret.hex()))
    os.chmod(path, 0o600)


def make_token(key_id, secret, action, subject, expires):
    """A link token as schalt_token_make makes it (version 1, key id, expiry
    in 8 octets big-endian, action and subject each after one octet of
    length, then a 16-octet keyed BLAKE2b MAC), base64url without padding:
    for tests that need a token the notifier did not sign."""
    import base64
    import hashlib
    message = bytes([1, key_id]) + int(expires).to_bytes(8, "big")
    for text in (action, subject):
        message += bytes([len(text)]) + text.encode()
    message += hashlib.blake2b(message, key=secret, digest_size=16).digest()
    return base64.urlsafe_b64encode(message).decode().rstrip("=")


def registry_prefix(some_id):
    """The prefix of the registry's keys of the event that a session or
    registration id (ses-<event>-<random>, reg-<event>-<random>) belongs to:
    'registry:{evt-<event>}:'."""
    return "registry:{evt-%s}:" % some_id[4:14]


def session_key(session_id, name=None):
    """The registry's key of a session (its facts), or of its list name
    (confirmed, waitlist, emails)."""
    key = registry_prefix(session_id) + "session:" + session_id
    return key + ":" + name if name else key

# ---------------------------------------------------------------------------
# CURVE keys


class Keys:
    """The keys of a test process, made once with `schalt key create`: a
    keys folder (the public certificates the daemons accept) and a folder of
    the secret ones. KEYS.env() is what every daemon and the CLI are given;
    KEYS.pair(name) the Z85 public and secret key, for pyzmq."""

    # name -> role: one per daemon, and the callers the tests play
    NAMES = {"scheduler": "scheduler", "registry": "registry", "notifier": "notifier",
             "admin": "admin", "erika": "organiser", "web": "web", "lead": "group-lead",
             "counsellor": "counsellor"}

    def __init__(self):
        self.root = None

    def make(self):
        if self.root:
            return
        root = tempfile.mkdtemp(prefix="schalt-keys-")
        self.dir = os.path.join(root, "keys")
        self.secret = os.path.join(root, "secret")
        os.mkdir(self.dir, 0o755)
        os.mkdir(self.secret, 0o700)
        for name, role in self.NAMES.items():
            self.create(name, role)
        self.root = root
        import atexit
        atexit.register(shutil.rmtree, root, True)

    def create(self, name, role, keys_dir=None):
        """Makes one more key pair (in keys_dir, default the shared one)."""
        env = base_env(with_keys=False)
        env["SCHALT_SCHALTSTELLE_KEYS"] = keys_dir or self.dir
        subprocess.run([os.path.join(BIN, "schalt"), "key", "create", name, "--role", role,
                        "--secret", self.secret_path(name)], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    def secret_path(self, name):
        return os.path.join(self.secret, name + ".key")

    def pair(self, name):
        """(public, secret) of a key, Z85 bytes, read from its secret certificate."""
        self.make()
        with open(self.secret_path(name)) as source:
            text = source.read()
        found = dict(re.findall(r'(public-key|secret-key) = "([^"]+)"', text))
        return found["public-key"].encode(), found["secret-key"].encode()

    def public(self, name):
        return self.pair(name)[0]

    def env(self, keys_dir=None):
        self.make()
        env = {"SCHALT_SCHALTSTELLE_KEYS": keys_dir or self.dir,
               "SCHALT_CLI_KEY": self.secret_path("admin")}
        for service in ("scheduler", "registry", "notifier"):
            env["SCHALT_%s_CERTIFICATE" % service.upper()] = self.secret_path(service)
        return env


KEYS = Keys()

# Which daemon listens at an endpoint (its requests or its events): a client
# socket needs that daemon's public key. Scheduler and Daemon fill it in.
SERVICE_AT = {}


def serves(endpoint, service):
    """Notes that service listens at endpoint."""
    SERVICE_AT[endpoint] = service


def curve_client(socket, endpoint, key="admin", server=None):
    """Makes socket a CURVE client of the daemon at endpoint, with key."""
    server = server or SERVICE_AT.get(endpoint)
    if server is None:
        raise AssertionError("no daemon is known at %s (harness.serves)" % endpoint)
    public, secret = KEYS.pair(key)
    socket.curve_publickey = public
    socket.curve_secretkey = secret
    socket.curve_serverkey = KEYS.public(server)


# The other daemons the client knows of: the tests point them at ports where
# nothing listens, never at a developer's daemons on the default ports.
OTHER_SERVICES = ("registry", "notifier", "web")

START_TIMEOUT = 15.0  # seconds a server may take to become ready
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL


# ---------------------------------------------------------------------------
# Processes and ports


# Ports for the servers a test starts come from below the kernel's ephemeral
# range (32768 and up), so that no outgoing connection of another process can
# take one between the check here and the server's bind.
_PORTS_LOW, _PORTS_HIGH = 20000, 32000
_ports_given = set()


def free_port():
    """Returns a TCP port on 127.0.0.1 that is free now, outside the
    ephemeral range, and not handed out before by this process."""
    import random
    for _ in range(1000):
        port = random.randint(_PORTS_LOW, _PORTS_HIGH)
        if port in _ports_given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port between %d and %d" % (_PORTS_LOW, _PORTS_HIGH))


_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: get SIGKILL if the test process dies, so a
    killed test run leaves no server behind (best effort, Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # pragma: no cover - only where prctl is missing
        pass


def spawn(argv, env=None, log_path=None, **kwargs):
    """Starts a program with output to log_path (or nowhere); returns its Popen."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
            **kwargs,
        )
    finally:
        if log_path:
            out.close()


def stop_process(proc, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
    """Stops the process this harness started, by its pid: sig, then SIGKILL
    after timeout. Returns its exit code; safe to call twice."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
    return proc.returncode


def wait_until(predicate, timeout, interval=0.05):
    """Calls predicate until it returns something true or timeout seconds
    pass; returns its last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def tail(path, lines=30):
    """The last lines of a log file, for failure messages."""
    try:
        with open(path, "rb") as log:
            return b"".join(log.readlines()[-lines:]).decode("utf-8", "replace")
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------
# Redis: a tiny RESP client, and the server


class RedisError(Exception):
    """An error reply (-ERR ...) from Redis."""


class RedisClient:
    """One connection to Redis speaking RESP2; enough for tests."""

    def __init__(self, port, timeout=2.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def command(self, *args):
        """Sends one command; returns its reply (bytes, int, list or None);
        raises RedisError for an error reply."""
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exactly(self, size):
        while len(self.buffer) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size + 2 :]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RedisError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            return None if size < 0 else self._exactly(size)
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _ in range(count)]
        raise ConnectionError("unexpected reply from redis: %r" % line)


class RedisServer:
    """A redis-server on a free port with its data in a temporary folder."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.log = os.path.join(workdir, "redis.log")
        self.port = None
        self.proc = None

    def start(self, port=None):
        """Starts the server (on port, or a free one, retried if taken) and
        waits until PING answers PONG (not LOADING)."""
        for _ in range(1 if port else 3):
            self.port = port or free_port()
            self.proc = spawn(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", self.dir, "--appendonly", "yes", "--appendfsync", "always",
                 "--save", "", "--daemonize", "no"],
                log_path=self.log,
            )
            if wait_until(self._ready, START_TIMEOUT):
                return self
            stop_process(self.proc, signal.SIGKILL)
        raise RuntimeError("redis-server did not start:\n" + tail(self.log))

    def _ready(self):
        if self.proc.poll() is not None:
            return True  # ended: reported by the caller's check below
        try:
            with RedisClient(self.port, timeout=0.5) as client:
                return client.command("PING") == b"PONG"
        except (OSError, RedisError, ConnectionError):
            return False

    def started(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """kill -9 the server (it gets no chance to write anything)."""
        stop_process(self.proc, signal.SIGKILL)

    def stop(self):
        stop_process(self.proc)

    def client(self):
        return RedisClient(self.port)

    def command(self, *args):
        with self.client() as client:
            return client.command(*args)

    def keys(self, pattern="scheduler:*"):
        """The names of the keys matching pattern, as sorted str."""
        return sorted(key.decode() for key in self.command("KEYS", pattern))

    def snapshot(self, with_requests=True, pattern="scheduler:*"):
        """Every key matching pattern (default: the scheduler's) with its
        type and content, as a dict; the remembered replies of request ids
        (`...:request:<id>`) are left out unless with_requests (a refusal by
        a script is remembered for the retry, by design), and so is the audit
        log (`...:{audit}:log`, which records refusals). The scheduler's
        timeline worker plans a changed session's reminders a moment after
        the change (a step of its own): that is waited for first (bounded),
        so that a snapshot shows the state the last change leads to."""
        state = {}
        if pattern.startswith("scheduler:"):
            wait_until(lambda: self.command("HLEN", "scheduler:{events}:plan") == 0, 10,
                       interval=0.02)
        with self.client() as client:
            for key in sorted(client.command("KEYS", pattern)):
                name = key.decode()
                if not with_requests and ":request:" in name:
                    continue
                if ":{audit}:" in name:
                    continue  # the log of the changes, not the state (test_security reads it)
                kind = client.command("TYPE", key).decode()
                if kind == "hash":
                    flat = client.command("HGETALL", key)
                    value = dict(zip(flat[0::2], flat[1::2]))
                elif kind == "zset":
                    value = client.command("ZRANGE", key, 0, -1, "WITHSCORES")
                elif kind == "string":
                    value = client.command("GET", key)
                elif kind == "set":
                    value = sorted(client.command("SMEMBERS", key))
                elif kind == "list":
                    value = client.command("LRANGE", key, 0, -1)
                else:
                    value = kind
                state[name] = (kind, value)
        return state

    def hash(self, key):
        """A hash as a dict of str, {} if absent."""
        flat = self.command("HGETALL", key)
        return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}

    def stored_events(self):
        """Every stored event record (the hashes scheduler:{events}:event:<id>),
        as a dict of id -> dict of str."""
        found = {}
        for key in self.keys(PREFIX + "event:*"):
            event_id = key[len(PREFIX + "event:"):]
            if ":" not in event_id:  # not event:<id>:sessions
                found[event_id] = self.hash(key)
        return found

    def event_ids(self):
        """The ids in the scheduler's index of events."""
        return [member.decode() for member in self.command("ZRANGE", PREFIX + "index", 0, -1)]


# ---------------------------------------------------------------------------
# The scheduler and the CLI


def base_env(with_keys=True):
    """The test process's environment without inherited Schaltstelle
    variables (any SCHALT_ variable may be a setting), with the test keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHALT_")}
    env["SCHALT_CONFIG"] = ""  # read no configuration file, only what is set here
    if with_keys:
        env.update(KEYS.env())
    return env


class Scheduler:
    """A schalt-scheduler on free loopback ports, pointed at a RedisServer."""

    def __init__(self, workdir, redis, extra=None):
        self.workdir = workdir
        self.redis = redis
        self.log = os.path.join(workdir, "scheduler.log")
        self.extra = dict(extra or {})
        self.proc = None
        self.choose_ports()
        # The link keys every daemon of the test reads (the notifier signs, the
        # registry checks): one key, id 1
        self.token_secret = os.urandom(32)
        self.token_keys = os.path.join(workdir, "token.keys")
        write_token_keys(self.token_keys, [(1, self.token_secret)])
        # Settings of sections an older build does not know are ignored
        self.others = {}
        for service in OTHER_SERVICES:
            for key in ("ENDPOINT", "EVENTS"):
                endpoint = "tcp://127.0.0.1:%d" % free_port()
                self.others["SCHALT_%s_%s" % (service.upper(), key)] = endpoint
                serves(endpoint, service)

    def choose_ports(self):
        self.port = free_port()
        self.events_port = free_port()
        self.endpoint = "tcp://127.0.0.1:%d" % self.port
        self.events = "tcp://127.0.0.1:%d" % self.events_port
        serves(self.endpoint, "scheduler")
        serves(self.events, "scheduler")

    def env(self, **overrides):
        """The environment of the daemon and of the CLI that talks to it."""
        env = base_env()
        env.update(self.others)
        env.update({
            "SCHALT_SCHALTSTELLE_SCHEMAS": SCHEMAS,
            "SCHALT_SCHALTSTELLE_TIMEZONE": "Europe/Berlin",
            "SCHALT_SCHALTSTELLE_TOKEN_KEYS": self.token_keys,
            "SCHALT_SCHEDULER_ENDPOINT": self.endpoint,
            "SCHALT_SCHEDULER_EVENTS": self.events,
            "SCHALT_SCHEDULER_REDIS_PORT": str(self.redis.port),
            "SCHALT_SCHEDULER_HEARTBEAT": "100",
            "SCHALT_CLI_TIMEOUT": "5000",
            "SCHALT_CLI_RETRIES": "3",
        })
        env.update(self.extra)
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def start(self):
        """Starts the daemon (new ports if the first were taken meanwhile)
        and waits until `schalt status` shows it running. (It exits 0 only
        when every daemon it knows answers; here only the scheduler runs.)"""
        result = None
        for attempt in range(3):
            self.proc = spawn([os.path.join(BIN, "schalt-scheduler")], env=self.env(),
                              log_path=self.log)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                result = self.schalt("status", SCHALT_CLI_TIMEOUT=500)
                if "scheduler" in status_rows(result[1]).get("running", []):
                    return self
            stop_process(self.proc)
            self.choose_ports()
        raise RuntimeError("schalt-scheduler did not start; last status: %r\n%s"
                           % (result, tail(self.log)))

    def stop(self):
        """SIGTERM (SIGKILL if it does not stop); returns its exit code."""
        return stop_process(self.proc)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def schalt(self, *args, timeout=60, **env):
        """Runs the CLI; returns (exit code, stdout, stderr) as text."""
        return run_schalt(self.env(**env), *args, timeout=timeout)

    def schalt_json(self, *args, **env):
        """Runs the CLI with --json; returns (exit code, parsed stdout or
        None, stderr)."""
        code, out, err = self.schalt("--json", *args, **env)
        return code, (json.loads(out) if code == 0 and out.strip() else None), err

    def status(self, timeout=2.0):
        """The daemon's reply to a status request (asked on a DEALER of its
        own) as a dict, or None if it did not answer within timeout seconds."""
        dealer = Dealer(zmq.Context.instance(), self.endpoint)
        try:
            dealer.send([PROTOCOL, "status", new_request_id(), b"{}"])
            frames = dealer.recv(timeout)
            return Reply(frames).body if frames else None
        finally:
            dealer.close()

    def log_text(self):
        return tail(self.log, 60)


def status_rows(out):
    """The rows of `schalt status` as a dict of state ("running", "no answer")
    -> the services in it, and "rows" -> service -> its whole row."""
    rows = {}
    for line in out.splitlines()[1:]:
        match = re.match(r"^(\S+)\s+(running|no answer)\b", line)
        if match:
            rows.setdefault(match.group(2), []).append(match.group(1))
            rows.setdefault("rows", {})[match.group(1)] = line
    return rows


def run_schalt(env, *args, timeout=60):
    """Runs build/bin/schalt with env; returns (exit code, stdout, stderr)."""
    result = subprocess.run([os.path.join(BIN, "schalt")] + [str(a) for a in args], env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return (result.returncode, result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"))


# ---------------------------------------------------------------------------
# The registry and the notifier


NOTIFIER_BINARY = os.path.join(BIN, "schalt-notifier")
NOTIFIER_BUILT = os.path.exists(NOTIFIER_BINARY)


def daemon_status(endpoint, timeout=0.5):
    """A daemon's reply to `status` (asked on a DEALER of its own) as a
    dict, or None if it did not answer within timeout seconds."""
    dealer = Dealer(zmq.Context.instance(), endpoint)
    try:
        dealer.send([PROTOCOL, "status", new_request_id(), b"{}"])
        frames = dealer.recv(timeout)
        if frames is None or len(frames) != 4 or frames[1] != b"200":
            return None
        return Reply(frames).body
    finally:
        dealer.close()


class Daemon:
    """A schalt-registry or schalt-notifier. Its endpoints are the ones the
    scheduler's environment names for it (chosen free when the Scheduler was
    made), so every other daemon and the CLI find it, and find it again
    after a restart; it uses the scheduler's Redis (each daemon has its own
    keys there). extra: settings (environment variables) of its own."""

    def __init__(self, name, workdir, scheduler, extra=None):
        self.name = name
        self.workdir = workdir
        self.scheduler = scheduler
        upper = name.upper()
        self.endpoint = scheduler.others["SCHALT_%s_ENDPOINT" % upper]
        self.events = scheduler.others["SCHALT_%s_EVENTS" % upper]
        self.binary = os.path.join(BIN, "schalt-" + name)
        self.log = os.path.join(workdir, name + ".log")
        self.extra = dict(extra or {})
        self.proc = None

    def env(self):
        upper = self.name.upper()
        env = self.scheduler.env()
        env.update({
            "SCHALT_%s_REDIS_PORT" % upper: str(self.scheduler.redis.port),
            "SCHALT_%s_HEARTBEAT" % upper: "100",
        })
        env.update({k: str(v) for k, v in self.extra.items()})
        return env

    def start(self):
        """Starts the daemon and waits until it answers `status` with its
        own pid (not an older process's)."""
        self.proc = spawn([self.binary], env=self.env(), log_path=self.log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            status = daemon_status(self.endpoint)
            if status and status.get("pid") == self.proc.pid:
                return self
            time.sleep(0.05)
        code = stop_process(self.proc)
        raise RuntimeError("schalt-%s did not start (exit %r):\n%s"
                           % (self.name, code, tail(self.log)))

    def stop(self):
        """SIGTERM (SIGKILL if it does not stop); returns its exit code."""
        return stop_process(self.proc)

    def kill(self):
        """kill -9: no chance to finish anything."""
        return stop_process(self.proc, signal.SIGKILL)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def status(self, timeout=2.0):
        return daemon_status(self.endpoint, timeout)

    def outbox(self, peer, timeout=2.0):
        """The status of its outbox to peer ({"depth", "in_flight",
        "delivered", "dead"}), or None if it did not answer."""
        status = self.status(timeout)
        return status and status.get("outboxes", {}).get(peer)

    def log_text(self, lines=60):
        return tail(self.log, lines)


class Web:
    """A schalt-web on a free loopback port, with the test keys' web key,
    talking to the daemons the scheduler's environment names; ready when it
    answers HTTP. get() fetches a page."""

    def __init__(self, workdir, scheduler, extra=None):
        self.workdir = workdir
        self.scheduler = scheduler
        self.log = os.path.join(workdir, "web.log")
        self.extra = dict(extra or {})
        self.proc = None
        self.port = None

    def env(self):
        env = self.scheduler.env()
        env.update({"SCHALT_WEB_PORT": str(self.port),
                    "SCHALT_WEB_REDIS_PORT": str(self.scheduler.redis.port),
                    "SCHALT_WEB_HEARTBEAT": "100",
                    "SCHALT_WEB_CERTIFICATE": KEYS.secret_path("web"),
                    "SCHALT_WEB_TEMPLATES": os.path.join(SOURCE, "templates", "web")})
        env.update({k: str(v) for k, v in self.extra.items()})
        return env

    def start(self):
        for _ in range(3):
            self.port = free_port()
            self.proc = spawn([os.path.join(BIN, "schalt-web")], env=self.env(),
                              log_path=self.log)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    self.get("/static/style.css", timeout=1)
                    return self
                except OSError:
                    time.sleep(0.05)
            stop_process(self.proc)
        raise RuntimeError("schalt-web did not start:\n" + tail(self.log))

    def stop(self):
        return stop_process(self.proc)

    def get(self, path, headers=None, timeout=10, method="GET", body=None):
        """(status, headers as a dict of lower-case names, body as text)."""
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            return (response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            connection.close()

    def post(self, path, fields, headers=None, timeout=10):
        """Sends a form, fields a list of (name, value) pairs (values as
        text, or bytes sent as they are), as a browser does; returns what
        get() does."""
        import urllib.parse
        body = "&".join(urllib.parse.quote_plus(name) + "=" +
                        (urllib.parse.quote_plus(value) if isinstance(value, str)
                         else urllib.parse.quote_from_bytes(value))
                        for name, value in fields)
        sent = {"Content-Type": "application/x-www-form-urlencoded"}
        sent.update(headers or {})
        return self.get(path, sent, timeout, "POST", body.encode("ascii"))

    def log_text(self, lines=60):
        return tail(self.log, lines)


class Mail:
    """A message the MailSink accepted."""

    def __init__(self, arrived, mail_from, rcpt_tos, raw, session=None):
        self.arrived = arrived  # time.monotonic() when its data was accepted
        self.mail_from = mail_from
        self.rcpt_tos = rcpt_tos
        self.raw = raw
        self.session = session  # which SMTP session brought it (an id), if noted

    @property
    def message_id(self):
        """Its Message-ID header as sent (with the angle brackets), or None."""
        match = re.search(rb"(?im)^message-id:[ \t]*(.*?)\r?$", self.raw.split(b"\r\n\r\n", 1)[0])
        return match.group(1).strip().decode("ascii", "replace") if match else None

    def parse(self):
        """The message as a mail client reads it, strictly: a malformed
        header raises instead of being repaired. Its text() is the text a
        reader sees (the text/plain part, also of a message with a calendar
        entry)."""
        return email.message_from_bytes(self.raw, policy=STRICT_MAIL)


class ParsedMail(email.message.EmailMessage):
    """A parsed e-mail, with the text a reader sees first."""

    def text(self):
        return self.get_body(preferencelist=("plain",)).get_content()


STRICT_MAIL = email.policy.strict.clone(message_factory=ParsedMail)


class _MailHandler:
    """Accepts every message, except to an address at refused.example, which
    it refuses as a mail server refuses an unknown mailbox (550)."""

    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refused.example"):
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        self.sink.store(Mail(time.monotonic(), envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 2.0.0 Message accepted for delivery"


class MailSink:
    """A real SMTP server in this process (aiosmtpd's Controller) on a free
    loopback port, keeping every message it accepts. A subclass may answer
    otherwise with its own HANDLER (an aiosmtpd handler made with the sink)."""

    HANDLER = _MailHandler

    def __init__(self):
        self.port = free_port()
        self.lock = threading.Lock()
        self.messages = []
        self.controller = None

    def start(self):
        """Starts listening (again, on the same port)."""
        from aiosmtpd.controller import Controller  # only tests that mail need it

        self.controller = Controller(self.HANDLER(self), hostname="127.0.0.1", port=self.port,
                                     ready_timeout=10)
        self.controller.start()
        return self

    def stop(self):
        """Stops listening: the relay is down until start(); safe twice."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def store(self, mail):
        with self.lock:
            self.messages.append(mail)

    def received(self):
        """Every accepted message so far, in arrival order (a copy)."""
        with self.lock:
            return list(self.messages)

    def count(self):
        with self.lock:
            return len(self.messages)

    def with_id(self, mid):
        """Every accepted message whose Message-ID is mid, as raw bytes."""
        return [mail.raw for mail in self.received() if mail.message_id == mid]

    def by_message_id(self):
        """Message-ID -> the list of accepted messages with it."""
        found = {}
        for mail in self.received():
            found.setdefault(mail.message_id, []).append(mail)
        return found

    def wait_for(self, count, timeout):
        """Waits until at least count messages arrived (bounded); returns
        the number that did."""
        wait_until(lambda: self.count() >= count, timeout, interval=0.1)
        return self.count()


# ---------------------------------------------------------------------------
# Raw ZeroMQ clients


class Reply:
    """A reply [SCHALT/1, status, id, json] as received."""

    def __init__(self, frames):
        self.frames = frames
        self.protocol, status, id_, self.raw = frames
        self.status = int(status)
        self.id = id_.decode()
        self.body = json.loads(self.raw)

    @property
    def error(self):
        return self.body.get("error", {})

    def __repr__(self):
        return "Reply(%d, %s, %s)" % (self.status, self.id, self.raw[:300])


class Dealer:
    """A DEALER connected to a daemon, as any client is: a CURVE client
    with key (a name of KEYS; None: no key at all, a plain socket)."""

    def __init__(self, context, endpoint, key="admin", server=None):
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        if key:
            curve_client(self.socket, endpoint, key, server)
        self.socket.connect(endpoint)

    def close(self):
        self.socket.close(0)

    def send(self, frames):
        self.socket.send_multipart([f if isinstance(f, bytes) else f.encode() for f in frames])

    def recv(self, timeout=5.0):
        """The next message as a list of frames, or None after timeout seconds."""
        if self.socket.poll(int(timeout * 1000)):
            return self.socket.recv_multipart()
        return None

    def request(self, command, body, request_id=None, timeout=5.0, retry_unavailable=5.0):
        """Sends one well-formed request (body: dict, or bytes sent as they
        are) and returns its Reply; fails if none comes or it is malformed.
        A 503 (the daemon's database did not answer in time: a stall of the
        disk under appendfsync always) is asked again with the same id for
        up to retry_unavailable seconds, as every client may (rule 5)."""
        request_id = request_id or new_request_id()
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        give_up = time.monotonic() + retry_unavailable
        while True:
            self.send([PROTOCOL, command, request_id, raw])
            reply = self.reply(timeout)
            if reply.status != 503 or time.monotonic() >= give_up:
                return reply
            time.sleep(0.3)

    def reply(self, timeout=5.0):
        frames = self.recv(timeout)
        if frames is None:
            raise AssertionError("no reply within %.1f s" % timeout)
        if len(frames) != 4 or frames[0] != PROTOCOL or not re.fullmatch(rb"[1-5]\d\d", frames[1]):
            raise AssertionError("malformed reply: %r" % frames)
        return Reply(frames)


class Subscriber:
    """A SUB socket on a daemon's events endpoint."""

    def __init__(self, context, endpoint, prefix=b"", key="admin"):
        self.socket = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SUBSCRIBE, prefix)
        if key:
            curve_client(self.socket, endpoint, key)
        self.socket.connect(endpoint)

    def close(self):
        self.socket.close(0)

    def next(self, predicate=lambda frames: True, timeout=5.0):
        """The first message (list of frames) for which predicate is true, or
        None after timeout seconds; others are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.socket.poll(int(left * 1000)):
                return None
            frames = self.socket.recv_multipart()
            if predicate(frames):
                return frames


def new_request_id():
    return "t-" + uuid.uuid4().hex


class Outcome:
    """What one client of a burst saw for one request: its id, every answer
    it got on the way (a status, or None for no answer within the timeout),
    and the final Reply (None if the deadline passed first)."""

    def __init__(self, request_id, body):
        self.request_id = request_id
        self.body = body
        self.answers = []
        self.reply = None

    @property
    def retried(self):
        """True if this request was sent more than once (503 or no answer)."""
        return len(self.answers) > 1


def burst(context, endpoint, command, bodies, clients, on_reply=None, timeout=5.0,
          deadline=90.0, retry_interval=0.2):
    """Sends one request per body from `clients` threads at once, each with
    its own DEALER and one request in flight at a time, as independent
    clients do. A client that gets 503 or no answer sends the same request
    again (same id, rule 5) after retry_interval, until a final answer or
    `deadline` seconds in all; replies to an earlier attempt are matched by
    id. on_reply(outcome) is called (from the client's thread) for every
    final reply. Returns the Outcomes in the order of bodies."""
    outcomes = [Outcome(new_request_id(), body) for body in bodies]
    stop_at = time.monotonic() + deadline

    def client(mine):
        dealer = Dealer(context, endpoint)
        try:
            for outcome in mine:
                raw = json.dumps(outcome.body).encode()
                while outcome.reply is None and time.monotonic() < stop_at:
                    dealer.send([PROTOCOL, command, outcome.request_id, raw])
                    frames = _reply_to(dealer, outcome.request_id, timeout)
                    if frames is None:
                        outcome.answers.append(None)
                        continue
                    reply = Reply(frames)
                    outcome.answers.append(reply.status)
                    if reply.status == 503:
                        time.sleep(retry_interval)
                        continue
                    outcome.reply = reply
                    if on_reply:
                        on_reply(outcome)
        finally:
            dealer.close()

    threads = [threading.Thread(target=client, args=(outcomes[index::clients],), daemon=True)
               for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, stop_at - time.monotonic()) + timeout + 5)
    return outcomes


def _reply_to(dealer, request_id, timeout):
    """The frames of the next reply to request_id (replies to other ids,
    late answers to an earlier request, are dropped), or None."""
    end = time.monotonic() + timeout
    while True:
        frames = dealer.recv(max(0.0, end - time.monotonic()))
        if frames is None:
            return None
        if len(frames) == 4 and frames[2].decode("utf-8", "replace") == request_id:
            return frames


# ---------------------------------------------------------------------------
# Schemas


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _is_date_time(text):
    """RFC 3339 date-time, for the format checker (jsonschema needs an extra
    package for it, which Debian does not install)."""
    if not isinstance(text, str):
        return True
    if not _RFC3339.match(text):
        return False
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _format_checker():
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(_is_date_time)
    return checker


_FORMATS = _format_checker()
_VALIDATORS = {}


def schema_validator(name):
    """The Draft 7 validator of schemas/<name>.json (e.g. "reply/event.get")."""
    if name not in _VALIDATORS:
        with open(os.path.join(SCHEMAS, name + ".json"), encoding="utf-8") as file:
            schema = json.load(file)
        jsonschema.Draft7Validator.check_schema(schema)
        _VALIDATORS[name] = jsonschema.Draft7Validator(schema, format_checker=_FORMATS)
    return _VALIDATORS[name]


def schema_errors(name, body):
    """The messages of every way body breaks schemas/<name>.json; [] if valid."""
    return ["%s: %s" % ("/" + "/".join(str(p) for p in error.absolute_path), error.message)
            for error in schema_validator(name).iter_errors(body)]


def reply_schema(command, status):
    """The name of the schema a reply to command with status must follow."""
    return "reply/error" if status >= 400 else "reply/" + command


def check_reply(testcase, command, status, body):
    """Fails testcase unless body follows its reply schema (which must exist:
    schemas/ holds one per command)."""
    name = reply_schema(command, status)
    testcase.assertTrue(os.path.exists(os.path.join(SCHEMAS, name + ".json")),
                        "no schema %s.json" % name)
    errors = schema_errors(name, body)
    testcase.assertEqual(errors, [], "%s %d reply breaks %s.json: %s" % (command, status, name,
                                                                         body))


# ---------------------------------------------------------------------------
# The base class


def notifier_settings(mail):
    """The notifier's settings for tests: the MailSink as its relay (no
    STARTTLS), this checkout's templates, a sender of the office, and a first
    retry after a second."""
    return {
        "SCHALT_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "SCHALT_NOTIFIER_SMTP_PORT": str(mail.port),
        "SCHALT_NOTIFIER_SMTP_STARTTLS": "none",
        "SCHALT_NOTIFIER_SMTP_TIMEOUT": "5000",
        "SCHALT_NOTIFIER_TEMPLATES": os.path.join(SOURCE, "templates"),
        "SCHALT_NOTIFIER_FROM_ADDRESS": "bildungsbuero@pulheim.example",
        "SCHALT_NOTIFIER_FROM_NAME": "Bildungsbüro Pulheim",
        "SCHALT_NOTIFIER_OFFICE_CONTACT": "Bildungsbüro, Tel. 02238 808-0",
        "SCHALT_NOTIFIER_RETRY_FIRST": "1",
    }


class E2ETestCase(unittest.TestCase):
    """One Redis and one scheduler per test class, cleaned up whatever happens.
    A subclass may set SCHEDULER_ENV (extra settings) or START_SCHEDULER =
    False (to start it in the test); REGISTRY = True to have a registry
    (cls.registry, started unless START_REGISTRY = False), and NOTIFIER =
    True to have a notifier (cls.notifier) with a MailSink (cls.mail) when
    the notifier is built (else both are None). Every daemon shares the one
    Redis; REGISTRY_ENV and NOTIFIER_ENV are extra settings of each."""

    SCHEDULER_ENV = {}
    START_SCHEDULER = True
    REGISTRY = False
    START_REGISTRY = True
    REGISTRY_ENV = {}
    NOTIFIER = False
    NOTIFIER_ENV = {}
    WEB = False  # a schalt-web too (its own service answers status and audit.list)
    WEB_ENV = {}

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="schalt-e2e-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.redis = RedisServer(cls.workdir)
        cls.addClassCleanup(cls.redis.stop)
        cls.redis.start()
        cls.scheduler = Scheduler(cls.workdir, cls.redis, cls.SCHEDULER_ENV)
        cls.addClassCleanup(cls.scheduler.stop)
        if cls.START_SCHEDULER:
            cls.scheduler.start()
        cls.context = zmq.Context()
        cls.addClassCleanup(cls.context.term)
        cls.registry = cls.notifier = cls.mail = None
        if cls.NOTIFIER and NOTIFIER_BUILT:
            cls.mail = MailSink()
            cls.addClassCleanup(cls.mail.stop)
            cls.mail.start()
            settings = notifier_settings(cls.mail)
            settings.update(cls.NOTIFIER_ENV)
            cls.notifier = Daemon("notifier", cls.workdir, cls.scheduler, settings)
            cls.addClassCleanup(cls.notifier.stop)
            cls.notifier.start()
        if cls.REGISTRY:
            cls.registry = Daemon("registry", cls.workdir, cls.scheduler, cls.REGISTRY_ENV)
            cls.addClassCleanup(cls.registry.stop)
            if cls.START_REGISTRY:
                cls.registry.start()
        cls.web = None
        if cls.WEB:
            cls.web = Web(cls.workdir, cls.scheduler, cls.WEB_ENV)
            cls.addClassCleanup(cls.web.stop)
            cls.web.start()

    # -- raw clients, closed after the test

    def dealer(self, endpoint=None, key="admin"):
        """A DEALER to endpoint (default: the scheduler's), with key."""
        dealer = Dealer(self.context, endpoint or self.scheduler.endpoint, key)
        self.addCleanup(dealer.close)
        return dealer

    def subscriber(self, prefix=b""):
        subscriber = Subscriber(self.context, self.scheduler.events, prefix)
        self.addCleanup(subscriber.close)
        return subscriber

    def request(self, command, body, request_id=None, dealer=None, retry_unavailable=5.0):
        """Sends a request on a (new) DEALER; returns the Reply after checking
        that its id is the request's and its body follows its schema."""
        request_id = request_id or new_request_id()
        reply = (dealer or self.dealer()).request(command, body, request_id,
                                                  retry_unavailable=retry_unavailable)
        self.assertEqual(reply.id, request_id, reply)
        check_reply(self, command, reply.status, reply.body)
        return reply

    def set_clock(self, daemon, instant):
        """Moves the daemon's clock (a Daemon started with
        SCHALT_SCHALTSTELLE_TEST_CLOCK=settable) to instant (RFC 3339, or a
        datetime with a zone); returns the clock.set reply."""
        if isinstance(instant, datetime.datetime):
            instant = instant.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        reply = self.request("clock.set", {"now": instant}, dealer=self.dealer(daemon.endpoint))
        self.assertEqual(reply.status, 200, reply)
        return reply

    # -- the CLI

    def schalt(self, *args, **env):
        return self.scheduler.schalt(*args, **env)

    def schalt_json(self, *args, **env):
        return self.scheduler.schalt_json(*args, **env)

    def create_event(self, title, start, end, kind="day-of-education", place="Rathaus Musterstadt"):
        """Creates an event with the CLI (times in local time); returns it."""
        code, event, err = self.schalt_json("event", "create", "--kind", kind, "--title", title,
                                            "--start", start, "--end", end, "--place", place)
        self.assertEqual(code, 0, err)
        return event

    def create_session(self, event_id, title, room, start, end, capacity=25, topics=(),
                       more=()):
        """Creates a session with the CLI (more: further arguments); returns it."""
        args = ["session", "create", "--event", event_id, "--title", title, "--room", room,
                "--start", start, "--end", end, "--capacity", str(capacity)]
        for topic in topics:
            args += ["--topic", topic]
        args += list(more)
        code, session, err = self.schalt_json(*args)
        self.assertEqual(code, 0, err)
        return session

    # -- the registry

    _rooms = 0

    def open_session(self, title="Übergang Kita – Grundschule", capacity=25,
                     event_title="Tag der Bildung 2027", place="Rathaus Pulheim", room=None,
                     start="2027-03-13T10:00", end="2027-03-13T11:30", more=()):
        """Creates an event (13 March 2027) and a session in it with the CLI
        (more: further arguments of session create), then waits until the
        registry knows the session (the scheduler's facts arrived); returns
        the session."""
        event = self.create_event(event_title, "2027-03-13T09:00", "2027-03-13T17:00",
                                  place=place)
        E2ETestCase._rooms += 1
        session = self.create_session(event["id"], title, room or "A %d" % E2ETestCase._rooms,
                                      start, end, capacity, more=more)
        self.wait_for_facts(session["id"], lambda listed: True)
        return session

    # What the registry takes only from the scheduler's key
    FROM_SCHEDULER = ("session.facts", "audience.notify")

    def registry_request(self, command, body, request_id=None, dealer=None, timeout=5.0):
        """A request to the registry (on a new DEALER unless given, with the
        scheduler's key for what only the scheduler sends, else an admin's);
        returns the Reply after checking its id and its schema."""
        dealer = dealer or self.dealer(
            self.registry.endpoint,
            key="scheduler" if command in self.FROM_SCHEDULER else "admin")
        request_id = request_id or new_request_id()
        reply = dealer.request(command, body, request_id, timeout=timeout)
        self.assertEqual(reply.id, request_id, reply)
        check_reply(self, command, reply.status, reply.body)
        return reply

    def registry_list(self, session_id):
        """The registry's registration.list reply body for the session, or
        None if the registry does not know it (404)."""
        reply = self.registry_request("registration.list", {"session": session_id})
        if reply.status == 404:
            return None
        self.assertEqual(reply.status, 200, reply)
        return reply.body

    def wait_for_facts(self, session_id, predicate, timeout=15.0):
        """Polls registration.list until the registry knows the session and
        predicate(listed body) is true (bounded); returns the body. Fails
        the test if that does not happen in time."""
        found = []

        def check():
            listed = self.registry_list(session_id)
            found[:] = [listed]
            return listed is not None and predicate(listed)

        self.assertTrue(wait_until(check, timeout, interval=0.05),
                        "the registry did not learn the facts of %s; last: %r\n%s\n%s"
                        % (session_id, found and found[0], self.scheduler.log_text(),
                           self.registry.log_text()))
        return found[0]

    def registry_state(self, session_id, with_requests=False):
        """Every registry key of the session's event with its content, except its
        outbox, which the relay empties as the notifier takes the notices
        (see assertNoNotice); replay records are left out unless
        with_requests."""
        state = self.redis.snapshot(with_requests, pattern=registry_prefix(session_id) + "*")
        return {name: value for name, value in state.items() if ":outbox:" not in name}

    def assertNoNotice(self, session_id, address):
        """No notice to address was made: none in the session's outbox, and
        (if a notifier runs) none at the notifier. The outbox is read first:
        an entry leaves it only once the notifier has stored it."""
        outbox = self.redis.command("LRANGE", registry_prefix(session_id) + "outbox:notifier", 0,
                                    -1)
        for raw in outbox:
            entry = json.loads(raw)
            self.assertNotEqual(entry["body"]["recipient"]["email"].lower(), address.lower(),
                                entry)
        if self.notifier is not None:
            reply = self.dealer(self.notifier.endpoint).request("notice.list", {"to": address})
            self.assertEqual((reply.status, reply.body.get("notices")), (200, []), reply)

    def assertRefused(self, result, status, code, field=None, option=None):
        """Asserts a CLI result is a refusal (exit 1) printed as
        'refused (<status> <code>)' and naming field, and the option that was
        typed for it ('[--lang, field /language]') if option is given."""
        exit_code, out, err = result
        self.assertEqual(exit_code, 1, "exit code; stdout=%r stderr=%r" % (out, err))
        self.assertIn("refused (%d %s)" % (status, code), err)
        if field is not None and option is not None:
            self.assertIn("[%s, field %s]" % (option, field), err)
        elif field is not None:
            self.assertRegex(err, r"\[(?:[^\]]*, )?field %s\]" % re.escape(field))
        self.assertEqual(out, "", "a refusal prints nothing on stdout")


def read_stderr_lines(proc, until, timeout):
    """Reads proc's stderr (a pipe) line by line until a line for which
    until(line) is true; returns the lines read, the last one matching or
    not (after timeout seconds or at the end of the output)."""
    lines, pending = [], b""
    deadline = time.monotonic() + timeout
    fd = proc.stderr.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if until(lines[-1]):
                return lines
    return lines
