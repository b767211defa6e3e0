"""Polls and scheduled statuses with Mastodon.py on a running Rookery, in two phases around the
test moving the clock's deadlines (the poll's end and the scheduled time) into the past.

Usage: mastodon_py_polls.py BASE_URL post
       mastodon_py_polls.py BASE_URL check POLL_ID SCHEDULED_ID
Expects accounts pyalice / pybob (emails pyalice@example.com, pybob@example.com, password
"python is fun"). Phase "post" prints "POLL <id>" and "SCHEDULED <id>". Exits non-zero with a
message on the first failure.
"""

import datetime
import sys

from mastodon import Mastodon

base, phase = sys.argv[1], sys.argv[2]
SCOPES = ["read", "write", "follow"]
cid, csec = Mastodon.create_app("Mastodon.py polls test", api_base_url=base, scopes=SCOPES)


def login(email):
    m = Mastodon(client_id=cid, client_secret=csec, api_base_url=base)
    m.log_in(username=email, password="python is fun", scopes=SCOPES, allow_http=True)
    return m


alice = login("pyalice@example.com")
bob = login("pybob@example.com")

if phase == "post":
    # Custom emojis on accounts and statuses.
    assert [e.shortcode for e in alice.custom_emojis()] == ["rookery"]
    me = alice.account_update_credentials(display_name="Py :rookery:")
    assert [e.shortcode for e in me.emojis] == ["rookery"], me.emojis
    hello = alice.status_post("hello :rookery: and :unknown:")
    assert [e.shortcode for e in hello.emojis] == ["rookery"], hello.emojis
    assert [e.shortcode for e in hello.account.emojis] == ["rookery"], hello.account.emojis

    poll = alice.make_poll(["tea", "coffee", "cocoa"], expires_in=3600, multiple=True)
    status = alice.status_post("What do you drink?", poll=poll)
    assert status.poll is not None, status
    assert [o.title for o in status.poll.options] == ["tea", "coffee", "cocoa"], status.poll
    assert status.poll.multiple is True
    voted = bob.poll_vote(status.poll.id, [0, 2])
    assert voted.voted is True and list(voted.own_votes) == [0, 2], voted
    assert [o.votes_count for o in voted.options] == [1, 0, 1], voted
    again = bob.poll(status.poll.id)
    assert again.voters_count == 1 and again.votes_count == 2, again
    try:
        bob.poll_vote(status.poll.id, [1])
        raise AssertionError("a second vote was accepted")
    except Exception as e:  # MastodonAPIError
        assert "already voted" in str(e), e

    # Quote posts (Mastodon 4.5): bob quotes alice's post, alice lists and revokes the quote,
    # then closes the post to quotes.
    quotable = alice.status_post("Quote me if you like", quote_approval_policy="public")
    assert list(quotable.quote_approval.automatic) == ["public"], quotable.quote_approval
    quoting = bob.status_post("Quoting alice", quoted_status_id=quotable.id)
    assert quoting.quote.state == "accepted", quoting.quote
    assert quoting.quote.quoted_status.id == quotable.id, quoting.quote
    assert [s.id for s in alice.status_quotes(quotable.id)] == [quoting.id]
    revoked = alice.status_quote_revoke(quotable.id, quoting.id)
    assert revoked.quote.state == "revoked", revoked.quote
    assert list(alice.status_quotes(quotable.id)) == []
    closed = alice.status_update_quote_approval_policy(quotable.id, "nobody")
    assert list(closed.quote_approval.automatic) == [], closed.quote_approval
    try:
        bob.status_post("again", quoted_status_id=quotable.id)
        raise AssertionError("a quote of a closed post was accepted")
    except Exception as e:  # MastodonAPIError
        assert "not allowed" in str(e), e

    # Notification filtering (Mastodon 4.3): a direct mention from a stranger waits in a request
    # until accepted.
    policy = alice.notifications_policy()
    assert policy.for_private_mentions == "filter", policy
    secret = bob.status_post("@pyalice psst", visibility="direct")
    requests = alice.notification_requests()
    assert [r.account.acct for r in requests] == ["pybob"], requests
    assert requests[0].last_status.id == secret.id, requests
    assert all(n.status is None or n.status.id != secret.id for n in alice.notifications())
    alice.accept_notification_request(requests[0].id)
    assert alice.notifications_merged() is True
    assert any(n.status is not None and n.status.id == secret.id for n in alice.notifications())
    assert list(alice.notification_requests()) == []
    changed = alice.update_notifications_policy(for_not_following="filter")
    assert changed.for_not_following == "filter", changed
    alice.update_notifications_policy(for_not_following="accept")

    # Smaller endpoints of Mastodon 4.2 to 4.4.
    assert alice.tag_feature("pyherons").featured is True
    assert [t.name for t in alice.featured_tags()] == ["pyherons"]
    assert alice.tag_unfeature("pyherons").featured is False
    assert alice.account_delete_avatar().avatar.endswith("missing.png")

    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    scheduled = alice.status_post("Posted later by Mastodon.py", scheduled_at=at)
    assert scheduled.params.text == "Posted later by Mastodon.py", scheduled
    listed = alice.scheduled_statuses()
    assert [s.id for s in listed] == [scheduled.id], listed
    moved = alice.scheduled_status_update(scheduled.id, at + datetime.timedelta(hours=1))
    assert moved.scheduled_at > scheduled.scheduled_at, moved
    doomed = alice.status_post("never", scheduled_at=at)
    alice.scheduled_status_delete(doomed.id)
    assert [s.id for s in alice.scheduled_statuses()] == [scheduled.id]
    print("POLL", status.poll.id)
    print("SCHEDULED", scheduled.id)
elif phase == "check":
    poll_id, scheduled_id = sys.argv[3], sys.argv[4]
    ended = bob.poll(poll_id)
    assert ended.expired is True, ended
    notes = bob.notifications(types=["poll"])
    assert len(notes) == 1 and notes[0].status.poll.id == poll_id, notes
    mine = alice.account_statuses(alice.me().id)
    assert any("Posted later by Mastodon.py" in s.content for s in mine), [s.content for s in mine]
    assert alice.scheduled_statuses() == [], alice.scheduled_statuses()
else:
    raise SystemExit("unknown phase " + phase)

print("all checks passed")
