"""Mastodon.py's Web Push: push_subscription_generate_keys, push_subscription_set, then a mention
arrives at this script's own push endpoint (HTTP on loopback), which decrypts it (RFC 8291
aes128gcm, with http_ece and the private key Mastodon.py generated).

Usage: mastodon_py_push.py BASE_URL
Expects accounts pyalice / pybob (password "python is fun"). Exits non-zero on the first failure.
"""

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec
from mastodon import Mastodon

base = sys.argv[1]
SCOPES = ["read", "write", "follow", "push"]
cid, csec = Mastodon.create_app("Mastodon.py push test", api_base_url=base, scopes=SCOPES)


def login(email):
    m = Mastodon(client_id=cid, client_secret=csec, api_base_url=base)
    m.log_in(username=email, password="python is fun", scopes=SCOPES, allow_http=True)
    return m


received = []
arrived = threading.Event()


class PushEndpoint(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        received.append((self.headers, body))
        arrived.set()
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), PushEndpoint)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = "http://127.0.0.1:%d/push/alice" % server.server_address[1]

alice = login("pyalice@example.com")
bob = login("pybob@example.com")
private, public = alice.push_subscription_generate_keys()
sub = alice.push_subscription_set(endpoint, public, mention_events=True, favourite_events=False)
assert sub.endpoint == endpoint, sub
assert sub.alerts.mention is True and sub.alerts.favourite is False, sub.alerts
server_key = alice.instance_v2().configuration.vapid.public_key
assert sub.server_key == server_key, (sub.server_key, server_key)
assert alice.push_subscription().id == sub.id

bob.status_post("@pyalice the swifts are back")
assert arrived.wait(20), "no push arrived"
headers, body = received[0]
assert headers.get("Content-Encoding") == "aes128gcm", headers
assert headers.get("Authorization", "").startswith("vapid t="), headers
key = ec.derive_private_key(private["privkey"], ec.SECP256R1())
plain = http_ece.decrypt(body, private_key=key, auth_secret=private["auth"], version="aes128gcm")
push = json.loads(plain)
assert push["notification_type"] == "mention", push
assert push["access_token"] == alice.access_token, push
assert "swifts are back" in push["body"], push
note = alice.notifications(types=["mention"])[0]
assert str(push["notification_id"]) == str(note.id), (push, note.id)

alice.push_subscription_delete()
server.shutdown()
print("mastodon.py push: all checks passed")
