"""A real SMTP server on loopback for the mail tests (aiosmtpd): every message it accepts is
written to DIR as N.eml. Prints "ready PORT" once it listens; runs until killed.

Usage: smtp_sink.py DIR

The port is chosen here, not by the caller: a port found free by one process can be taken by
another test before this one binds it, so a taken port is retried with a new one.
"""

import os
import socket
import sys
import time

from aiosmtpd.controller import Controller

out = sys.argv[1]


class Save:
    def __init__(self):
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(out, "%d.eml" % self.n)
        with open(path + ".part", "wb") as f:
            f.write(envelope.content)
        os.rename(path + ".part", path)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


for attempt in range(20):
    port = free_port()
    controller = Controller(Save(), hostname="127.0.0.1", port=port)
    try:
        controller.start()
        break
    except OSError:
        if attempt == 19:
            raise
print("ready %d" % port, flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
