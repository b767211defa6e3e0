"""Two Mastodon.py users on a running Rookery: they follow, post, reply, boost, favourite, read
home and notifications, and one receives the other's post through the streaming listener.

Usage: mastodon_py_posting.py BASE_URL
Expects accounts pyalice / pybob (emails pyalice@example.com, pybob@example.com, password
"python is fun"). Exits non-zero with a message on the first failure.
"""

import sys
import threading

from mastodon import Mastodon, StreamListener

base = sys.argv[1]
SCOPES = ["read", "write", "follow"]
cid, csec = Mastodon.create_app("Mastodon.py posting test", api_base_url=base, scopes=SCOPES)


def login(email):
    m = Mastodon(client_id=cid, client_secret=csec, api_base_url=base)
    m.log_in(username=email, password="python is fun", scopes=SCOPES, allow_http=True)
    return m


alice = login("pyalice@example.com")
bob = login("pybob@example.com")
alice_id = alice.me().id
bob.account_follow(alice_id)
assert bob.account_relationships(alice_id)[0].following


class Collect(StreamListener):
    def __init__(self):
        self.updates = []
        self.notifications = []
        self.got_update = threading.Event()
        self.got_notification = threading.Event()

    def on_update(self, status):
        self.updates.append(status)
        self.got_update.set()

    def on_notification(self, notification):
        self.notifications.append(notification)
        self.got_notification.set()


listener = Collect()
handle = bob.stream_user(listener, run_async=True, reconnect_async=False)
try:
    assert handle.is_alive(), "stream did not start"
    import time
    time.sleep(0.5)
    post = alice.status_post("Hello from Mastodon.py #pytest", visibility="public")
    assert listener.got_update.wait(10), "no update arrived on bob's user stream"
    assert any(s.id == post.id for s in listener.updates), listener.updates
    mention = alice.status_post("@pybob are you there?")
    assert listener.got_notification.wait(10), "no notification arrived on bob's user stream"
    assert listener.notifications[-1].type == "mention", listener.notifications
finally:
    handle.close()

reply = bob.status_reply(post, "Loud and clear")
assert reply.in_reply_to_id == post.id
bob.status_favourite(post.id)
boost = bob.status_reblog(post.id)
assert boost.reblog.id == post.id
fav = alice.status(post.id)
assert fav.favourites_count == 1 and fav.reblogs_count == 1, fav

home = bob.timeline_home()
assert any(s.id == post.id for s in home), [s.id for s in home]
context = alice.status_context(post.id)
assert [s.id for s in context.descendants] == [reply.id]

kinds = sorted({n.type for n in alice.notifications()})
assert kinds == ["favourite", "follow", "mention", "reblog"], kinds

secret = alice.status_post("just for followers", visibility="private")
assert bob.status(secret.id).id == secret.id
alice.status_delete(secret.id)
assert all(s.id != secret.id for s in bob.timeline_home())
# Media: Mastodon.py's media_post (v2, then polls until processed) and status_post(media_ids=…).
import os
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "media")
photo = alice.media_post(os.path.join(fixtures, "photo.jpg"), description="a test card")
assert photo.type == "image" and photo.url and photo.blurhash, photo
clip = alice.media_post(os.path.join(fixtures, "clip.webm"), synchronous=True)
assert clip.type == "video" and clip.url.endswith(".mp4"), clip
with_media = alice.status_post("two attachments", media_ids=[photo, clip])
assert [m.id for m in with_media.media_attachments] == [photo.id, clip.id], with_media.media_attachments
assert with_media.media_attachments[0].description == "a test card"
gallery = bob.account_statuses(alice.me().id, only_media=True)
assert [s.id for s in gallery] == [with_media.id], [s.id for s in gallery]

# Direct messages: status_post(visibility="direct"), conversations(), conversations_read() and the
# direct stream's `conversation` events (Mastodon.py's on_conversation).
class Conversations(StreamListener):
    def __init__(self):
        self.items = []
        self.got = threading.Event()

    def on_conversation(self, conversation):
        self.items.append(conversation)
        self.got.set()


talk = Conversations()
handle = bob.stream_direct(talk, run_async=True, reconnect_async=False)
try:
    time.sleep(0.5)
    dm = alice.status_post("@pybob a quiet word", visibility="direct")
    assert dm.visibility == "direct", dm
    assert talk.got.wait(10), "no conversation event on bob's direct stream"
    assert talk.items[-1].last_status.id == dm.id, talk.items
    assert talk.items[-1].unread is True
finally:
    handle.close()
convs = bob.conversations()
assert len(convs) == 1 and convs[0].unread and convs[0].last_status.id == dm.id, convs
assert [a.acct for a in convs[0].accounts] == ["pyalice"], convs[0].accounts
answer = bob.status_post("noted", in_reply_to_id=dm.id, visibility="direct")
assert alice.conversations()[0].last_status.id == answer.id
read = alice.conversations_read(alice.conversations()[0].id)
assert read.unread is False, read
assert all(s.id != dm.id for s in alice.timeline_public()), "a message is never public"
print("mastodon.py posting: all checks passed")
