"""notifier_support - what the notifier's end-to-end tests need beyond harness.py.

- MailServer: harness's MailSink (a real SMTP server, Debian's
  python3-aiosmtpd, in this process on a free loopback port, keeping every
  message it accepts) that answers by the recipient's local part, so that one
  server plays every relay a test needs:
    greylist...  451 to the data the first time a Message-ID comes, then 250
    reject...    550 to RCPT TO (the address does not exist)
    defer...     451 to RCPT TO, always (a mailbox that stays full)
    hold...      RCPT TO answered after a second (a slow relay)
    slow...      the data is stored, then answered 250 only after 3 s (the
                 first time a Message-ID comes), so a test can kill the
                 notifier between "accepted" and "recorded"
    linger...    the session's QUIT is answered only after 2 s (a relay slow
                 to say goodbye after it took every message)
    anything else 250.
  It can be stopped and started again on the same port (a relay that is down).
- RawRelay: a small SMTP server on a raw socket, for what aiosmtpd cannot
  say: replies that are not UTF-8 (a relay answering in Latin-1, or with any
  octet 0x80-0xff and NUL). It answers RCPT TO by the recipient's local part:
    latin...  550, in Latin-1, over two lines ("Empf\\xe4nger unbekannt")
    bytes...  451 with every octet 0x80-0xff, a NUL and more text after it
    anything else 250, and the data is kept.
- Notifier: a schalt-notifier on free loopback ports, configured only by
  environment variables, pointed at a RedisServer and a MailServer, ready
  when it answers `status`, stopped by its pid (SIGTERM, or SIGKILL for a crash).
- parse(): a received message as a mail client reads it (email.policy.strict).
"""

import asyncio
import email
import email.policy
import os
import signal
import threading
import time

import harness

# Settings of the daemon under test: nothing inherited may leak in.
_OURS = ("SCHALT_",)


def parse(raw):
    """A message (bytes) as Python's email package reads it, strictly: a
    malformed header raises instead of being repaired."""
    return email.message_from_bytes(raw, policy=harness.STRICT_MAIL)


class _Handler:
    """aiosmtpd handler: stores accepted messages, answers by local part."""

    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 Recipient address rejected: user unknown"
        if local.startswith("defer"):
            return "451 4.2.2 Mailbox full, try again later"
        if local.startswith("hold"):
            await asyncio.sleep(1.0)
        if local.startswith("linger"):
            session.linger = True
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        if getattr(session, "linger", False):
            self.server.lingering.set()
            await asyncio.sleep(2.0)
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        mail = harness.Mail(time.monotonic(), envelope.mail_from, list(envelope.rcpt_tos), raw,
                            id(session))
        local = envelope.rcpt_tos[0].split("@")[0].lower()
        first = self.server.first_time(mail.message_id)
        if local.startswith("greylist") and first:
            return "451 4.7.1 Greylisted, please try again later"
        self.server.store(mail)
        if local.startswith("slow") and first:
            self.server.slow_data.set()
            await asyncio.sleep(3.0)
        return "250 2.0.0 Message accepted for delivery"


class MailServer(harness.MailSink):
    """harness's MailSink, answering by the recipient's local part."""

    HANDLER = _Handler

    def __init__(self):
        super().__init__()
        self.seen = set()  # Message-IDs that came to a greylist or slow address
        self.slow_data = threading.Event()
        self.lingering = threading.Event()

    def first_time(self, mid):
        with self.lock:
            if mid in self.seen:
                return False
            self.seen.add(mid)
            return True

    def sessions_of(self, mid):
        """The SMTP sessions (ids) in which messages with Message-ID mid came."""
        return [mail.session for mail in self.received() if mail.message_id == mid]


class RawRelay:
    """An SMTP server on a raw socket in a thread of this process, one session
    at a time, whose replies are bytes as the test chooses (see the module's
    docstring). It keeps the data of every message it accepts, in order."""

    LATIN1 = b"550-5.1.1 Empf\xe4nger unbekannt\r\n550 5.1.1 Pr\xfcfen Sie die Adresse\r\n"
    OCTETS = b"451 4.0.0 " + bytes(range(0x80, 0x100)) + b"\x00after the NUL\r\n"

    def __init__(self):
        self.port = harness.free_port()
        self.lock = threading.Lock()
        self.messages = []
        self.listener = None
        self.thread = None

    def start(self):
        import socket

        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.thread:
            self.running = False
            self.thread.join(5)
            self.listener.close()
            self.thread = None

    def received(self):
        with self.lock:
            return list(self.messages)

    def _serve(self):
        while self.running:
            try:
                peer, _ = self.listener.accept()
            except OSError:
                continue
            with peer:
                peer.settimeout(10)
                try:
                    self._session(peer)
                except OSError:
                    pass

    def _session(self, peer):
        reader = peer.makefile("rb")
        peer.sendall(b"220 raw.example ESMTP\r\n")
        while True:
            line = reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"EHLO":
                peer.sendall(b"250-raw.example\r\n250 8BITMIME\r\n")
            elif verb in (b"HELO", b"MAIL", b"RSET", b"NOOP"):
                peer.sendall(b"250 OK\r\n")
            elif verb == b"RCPT":
                local = line.split(b"<", 1)[-1].split(b"@", 1)[0].lower()
                if local.startswith(b"latin"):
                    peer.sendall(self.LATIN1)
                elif local.startswith(b"bytes"):
                    peer.sendall(self.OCTETS)
                else:
                    peer.sendall(b"250 OK\r\n")
            elif verb == b"DATA":
                peer.sendall(b"354 go ahead\r\n")
                data = []
                for part in iter(reader.readline, b""):
                    if part == b".\r\n":
                        break
                    data.append(part)
                with self.lock:
                    self.messages.append(b"".join(data))
                peer.sendall(b"250 2.0.0 kept\r\n")
            elif verb == b"QUIT":
                peer.sendall(b"221 bye\r\n")
                return
            else:
                peer.sendall(b"502 5.5.2 what?\r\n")


class Notifier:
    """A schalt-notifier on free loopback ports."""

    def __init__(self, workdir, redis, mail, extra=None):
        self.workdir = workdir
        self.redis = redis
        self.mail = mail
        self.log = os.path.join(workdir, "notifier.log")
        self.token_secret = os.urandom(32)
        self.token_keys = os.path.join(workdir, "token.keys")
        harness.write_token_keys(self.token_keys, [(1, self.token_secret)])
        self.extra = dict(extra or {})
        self.proc = None
        self.endpoint = None

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
        self.endpoint = "tcp://127.0.0.1:%d" % harness.free_port()
        harness.serves(self.endpoint, "notifier")
        env.update(harness.KEYS.env())
        env.update({
            "SCHALT_CONFIG": "",
            "SCHALT_SCHALTSTELLE_SCHEMAS": harness.SCHEMAS,
            "SCHALT_SCHALTSTELLE_TIMEZONE": "Europe/Berlin",
            "SCHALT_SCHALTSTELLE_TOKEN_KEYS": self.token_keys,
            "SCHALT_NOTIFIER_ENDPOINT": self.endpoint,
            "SCHALT_NOTIFIER_EVENTS": "tcp://127.0.0.1:%d" % harness.free_port(),
            "SCHALT_NOTIFIER_REDIS_PORT": str(self.redis.port),
            "SCHALT_NOTIFIER_HEARTBEAT": "100",
            "SCHALT_NOTIFIER_SMTP_PORT": str(self.mail.port),
            "SCHALT_NOTIFIER_SMTP_STARTTLS": "none",
            "SCHALT_NOTIFIER_SMTP_TIMEOUT": "10000",
            "SCHALT_NOTIFIER_TEMPLATES": os.path.join(harness.SOURCE, "templates"),
            "SCHALT_NOTIFIER_FROM_ADDRESS": "bildungsbuero@pulheim.example",
            "SCHALT_NOTIFIER_FROM_NAME": "Bildungsbüro Pulheim",
            "SCHALT_NOTIFIER_OFFICE_CONTACT": "Bildungsbüro, Tel. 02238 808-0",
            "SCHALT_NOTIFIER_RETRY_FIRST": "1",
        })
        env.update({k: str(v) for k, v in self.extra.items()})
        return env

    def start(self, context):
        """Starts the daemon (on new ports) and waits until status answers."""
        for _ in range(3):
            self.proc = harness.spawn([os.path.join(harness.BIN, "schalt-notifier")],
                                      env=self.env(), log_path=self.log)
            dealer = harness.Dealer(context, self.endpoint)
            try:
                deadline = time.monotonic() + harness.START_TIMEOUT
                while time.monotonic() < deadline and self.proc.poll() is None:
                    try:
                        if dealer.request("status", {}, timeout=0.5).status == 200:
                            return self
                    except AssertionError:
                        dealer.close()
                        dealer = harness.Dealer(context, self.endpoint)
            finally:
                dealer.close()
            harness.stop_process(self.proc)
        raise RuntimeError("schalt-notifier did not start:\n" + harness.tail(self.log))

    def stop(self):
        return harness.stop_process(self.proc)

    def kill(self):
        """kill -9: no chance to finish anything."""
        return harness.stop_process(self.proc, signal.SIGKILL)

    def log_text(self):
        return harness.tail(self.log, 200)
