"""Mastodon.py against a cluster (issue 28): nginx in front of two `web` nodes and a `worker` node
on one PostgreSQL (with a read replica) and one S3 bucket.

Usage: mastodon_py_cluster.py PROXY_URL NODE1_URL NODE2_URL PHOTO VIDEO
PROXY_URL balances over both web nodes; NODE1_URL and NODE2_URL are nginx ports that always reach
node 1 and node 2. Expects accounts ava and bob (emails ava@example.com, bob@example.com, password
"a long password"). Exits non-zero with a message on the first failure; prints "all checks passed".
"""

import sys
import threading
import time

import requests
from mastodon import Mastodon, StreamListener

proxy, node1, node2, photo, video = sys.argv[1:6]
SCOPES = ["read", "write", "follow"]
PASSWORD = "a long password"


def login(base, email):
    cid, csec = Mastodon.create_app("cluster test", api_base_url=base, scopes=SCOPES)
    m = Mastodon(client_id=cid, client_secret=csec, api_base_url=base)
    m.log_in(username=email, password=PASSWORD, scopes=SCOPES, allow_http=True)
    return m


def eventually(check, seconds=10, what="condition"):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# Through the balancer, then pinned to each node: one token works on every node.
ava = login(proxy, "ava@example.com")
bob = login(node2, "bob@example.com")
ava_on1 = Mastodon(access_token=ava.access_token, api_base_url=node1)
ava_on2 = Mastodon(access_token=ava.access_token, api_base_url=node2)
bob_on1 = Mastodon(access_token=bob.access_token, api_base_url=node1)
ava_id = ava.me().id
bob_id = bob.me().id
assert ava_on1.me().id == ava_on2.me().id == ava_id


class Collect(StreamListener):
    def __init__(self):
        self.updates = []
        self.events = []
        self.conversations = []
        self.lock = threading.Condition()

    def on_update(self, status):
        with self.lock:
            self.updates.append(status)
            self.lock.notify_all()

    def on_conversation(self, conversation):
        with self.lock:
            self.conversations.append(conversation)
            self.lock.notify_all()

    def on_unknown_event(self, name, unknown_event=None):
        with self.lock:
            self.events.append((name, unknown_event))
            self.lock.notify_all()

    def wait_for(self, check, seconds=10):
        deadline = time.time() + seconds
        with self.lock:
            while not check():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.lock.wait(left)
            return True


# 1. Streaming through the balancer (on one of the nodes): statuses posted through node 1 and
#    through node 2 both arrive, in order, once; one of them crossed nodes.
public = Collect()
handle = ava.stream_public(public, run_async=True, reconnect_async=False, local=True)
time.sleep(0.5)
assert handle.is_alive(), "the public stream did not start"
posted = []
for i in range(6):
    client = bob if i % 2 else bob_on1
    posted.append(client.status_post(f"cluster post {i}", visibility="public").id)
assert public.wait_for(lambda: len(public.updates) >= 6), (
    f"stream got {len(public.updates)} of 6 statuses"
)
time.sleep(0.5)
got = [s.id for s in public.updates]
assert got == posted, f"order or count differs: {got} vs {posted}"
print("streaming across nodes: 6 statuses from both nodes arrived in order, once")

# 2. A direct message from bob (node 2); ava's direct stream (through the balancer) is told when
#    bob types on node 2, and bob sees ava online from both nodes while her stream is open.
direct = Collect()
dhandle = ava.stream_direct(direct, run_async=True, reconnect_async=False)
time.sleep(0.5)
dm = bob.status_post("@ava are you there?", visibility="direct")
assert direct.wait_for(lambda: len(direct.conversations) >= 1), "no conversation event"
conversation = bob.conversations()[0]
r = requests.post(
    f"{node2}/api/v1/conversations/{conversation.id}/typing",
    headers={"Authorization": f"Bearer {bob.access_token}"},
)
assert r.status_code in (200, 204), r.text
assert direct.wait_for(
    lambda: any(name == "rookery.typing" for name, _ in direct.events)
), f"no typing event on ava's stream: {direct.events}"
print("typing on node 2 reached ava's stream")


def online(base):
    r = requests.get(
        f"{base}/api/v1/presence",
        params={"id[]": ava_id},
        headers={"Authorization": f"Bearer {bob.access_token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()[0]["online"] is True


eventually(lambda: online(node1) and online(node2), what="ava online on both nodes")
handle.close()
dhandle.close()
eventually(lambda: not online(node1) and not online(node2), seconds=15, what="ava offline")
print("presence right on both nodes")

# 3. Media: a photo uploaded through node 1 is attached through node 2 and served; a video
#    uploaded through node 2 is transcoded by the worker node and shown ready through node 1.
media = ava_on1.media_post(photo, mime_type="image/jpeg", description="a heron")
r = requests.get(
    f"{node2}/api/v1/media/{media.id}", headers={"Authorization": f"Bearer {ava.access_token}"}
)
assert r.status_code == 200 and r.json()["url"], r.text
status = ava_on2.status_post("with a photo", media_ids=[media.id])
seen = ava_on1.status(status.id)
url = seen.media_attachments[0].url
got = requests.get(url)
assert got.status_code == 200 and got.content[:2] == b"\xff\xd8", (url, got.status_code)
clip = ava_on2.media_post(video, mime_type="video/webm", description="a clip")


def clip_ready():
    r = requests.get(
        f"{node1}/api/v1/media/{clip.id}",
        headers={"Authorization": f"Bearer {ava.access_token}"},
    )
    return r.status_code == 200 and bool(r.json().get("url"))


eventually(clip_ready, seconds=60, what="the video processed by the worker")
print("media: uploaded on one node, served through the other; the worker transcoded the video")

# 4. Reads right after one's own write, through the balancer (the replica may lag).
for i in range(10):
    s = ava.status_post(f"read your writes {i}")
    assert ava.status(s.id).id == s.id
    assert ava.timeline_home(limit=5)[0].id == s.id, "home did not show the post just made"
    ava.status_favourite(s.id)
    assert ava.status(s.id).favourited, "the favourite just made is not shown"
print("read-your-writes held for 10 posts through the balancer")
print("all checks passed")
