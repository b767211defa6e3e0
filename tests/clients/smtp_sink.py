"""A real SMTP server on loopback for the mail tests (aiosmtpd): every message it accepts is
written to DIR as N.eml. Prints "ready" once it listens; runs until killed.

Usage: smtp_sink.py PORT DIR
"""

import os
import sys
import time

from aiosmtpd.controller import Controller

port, out = int(sys.argv[1]), sys.argv[2]


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


controller = Controller(Save(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
finally:
    controller.stop()
