"""Drives a running Rookery with Mastodon.py, as a script author would.

Usage: mastodon_py.py BASE_URL EMAIL PASSWORD USERNAME
Signs in through the HTML authorization form (authorization-code flow with the out-of-band
redirect), then with the password grant, and uses the account and instance calls. Exits non-zero
with a message on the first failure.
"""

import html
import re
import sys

import requests
from mastodon import Mastodon

base, email, password, username = sys.argv[1:5]
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]

client_id, client_secret = Mastodon.create_app(
    "Mastodon.py test", api_base_url=base, scopes=SCOPES, redirect_uris=OOB
)

# Authorization-code flow through the real HTML pages.
m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
# allow_http: Mastodon.py insists on https OAuth endpoints unless told it is a test instance.
url = m.auth_request_url(scopes=SCOPES, redirect_uris=OOB, allow_http=True)
browser = requests.Session()


def hidden_fields(page):
    form = page.split("</form>")[0]
    return {
        k: html.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    }


page = browser.get(url)
assert page.status_code == 200, page.text
fields = hidden_fields(page.text)
fields.update(action="sign_in", username=email, password=password)
consent = browser.post(base + "/oauth/authorize", data=fields)
assert consent.status_code == 200 and "Authorize" in consent.text, consent.text
fields = hidden_fields(consent.text)
fields["action"] = "approve"
shown = browser.post(base + "/oauth/authorize", data=fields)
code = re.search(r'id="oauth-code" readonly value="([^"]+)"', shown.text).group(1)
token = m.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
assert token, "no token from the authorization code"

me = m.account_verify_credentials()
assert me.username == username, me
assert me.acct == username, me

# Password grant (the username field takes the email).
m2 = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
m2.log_in(username=email, password=password, scopes=SCOPES, allow_http=True)
assert m2.account_verify_credentials().id == me.id

updated = m.account_update_credentials(
    display_name="Py Alice",
    note="Written by Mastodon.py https://example.org",
    fields=[("Site", "https://example.org"), ("Pronouns", "she/her")],
    locked=True,
)
assert updated.display_name == "Py Alice", updated
assert updated.locked is True, updated
assert 'href="https://example.org"' in updated.note, updated.note
assert [f.name for f in updated.fields] == ["Site", "Pronouns"], updated.fields
again = m2.account(me.id)
assert again.display_name == "Py Alice"

inst = m.instance()
assert inst.title, inst
assert str(inst.version).startswith("4."), inst.version
assert m.account_lookup(username).id == me.id
assert m.account_search(username[:3])[0].id == me.id
rel = m.account_relationships(me.id)
assert rel[0].following is False
prefs = m.preferences()
assert prefs["posting:default:visibility"] == "public"

m.revoke_access_token(allow_http=True)
try:
    m.account_verify_credentials()
    raise SystemExit("the revoked token still works")
except Exception as e:
    assert "401" in str(e) or "invalid" in str(e).lower(), e
print("mastodon.py: all checks passed")
