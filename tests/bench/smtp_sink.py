#!/usr/bin/python3
"""smtp_sink - an SMTP server for benchmarks that keeps only when each message arrived.

It accepts every message (Debian's python3-aiosmtpd, a real SMTP server), appends
"<unix time with microseconds> <Message-ID>\\n" to FILE at the moment it accepts the
message, and throws the message away. It stops on SIGTERM or SIGINT.

Usage: /usr/bin/python3 tests/bench/smtp_sink.py PORT FILE
(registration-burst starts it on 127.0.0.1 and stops it by its pid.)
"""

import signal
import sys
import time
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller


class Sink:
    """aiosmtpd handler: one line per accepted message, nothing else kept."""

    def __init__(self, path):
        # Line-buffered, so that a reader sees each message as soon as it is accepted
        self.out = open(path, "a", buffering=1, encoding="utf-8")
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope):
        accepted = time.time()
        message_id = self.parser.parsebytes(envelope.content).get("Message-ID")
        # Folded or missing headers still give one token per line
        token = "".join(str(message_id).split()) if message_id else "<none>"
        self.out.write("%.6f %s\n" % (accepted, token))
        return "250 Message accepted for delivery"


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.stderr.write("usage: smtp_sink.py PORT FILE\n")
        return 2
    sink = Sink(sys.argv[2])
    # A fixed server name: no name lookup for each connection
    controller = Controller(
        sink, hostname="127.0.0.1", port=int(sys.argv[1]), server_hostname="localhost"
    )
    # Block the stop signals first, then wait for one of them in this thread
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    sink.out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
