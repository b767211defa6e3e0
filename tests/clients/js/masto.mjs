// masto.js (the library under Elk and Phanpy) against a running Rookery: registers an app, signs
// in, reads home, lists and filters, and receives a `user` stream event over the WebSocket with the
// token as the subprotocol (masto's default).
// Usage: node masto.mjs BASE_URL   (accounts jsalice and jsbob, password "javascript is fun")
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

const base = process.argv[2];
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
const check = (cond, msg) => cond || fail(msg);

const anon = createRestAPIClient({ url: base });
const app = await anon.v1.apps.create({
  clientName: "masto.js test",
  redirectUris: "urn:ietf:wg:oauth:2.0:oob",
  scopes: "read write follow push",
});
check(app.clientId && app.clientSecret && app.vapidKey, `app: ${JSON.stringify(app)}`);
const oauth = createOAuthAPIClient({ url: base });
const signIn = (login) =>
  oauth.token.create({
    grantType: "password",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    username: `${login}@example.com`,
    password: "javascript is fun",
    scope: "read write follow push",
  });
const aliceToken = await signIn("jsalice");
const bobToken = await signIn("jsbob");
const alice = createRestAPIClient({ url: base, accessToken: aliceToken.accessToken });
const bob = createRestAPIClient({ url: base, accessToken: bobToken.accessToken });

const me = await alice.v1.accounts.verifyCredentials();
check(me.username === "jsalice", `verifyCredentials: ${me.username}`);
const instance = await alice.v2.instance.fetch();
check(instance.configuration.urls.streaming, "v2 instance has a streaming URL");
const bobAccount = await alice.v1.accounts.lookup({ acct: "jsbob" });
await alice.v1.accounts.$select(bobAccount.id).follow();

// Lists and filters.
const list = await alice.v1.lists.create({ title: "Birders" });
await alice.v1.lists.$select(list.id).accounts.create({ accountIds: [bobAccount.id] });
const lists = await alice.v1.lists.list();
check(lists.length === 1 && lists[0].title === "Birders", `lists: ${JSON.stringify(lists)}`);
const filter = await alice.v2.filters.create({
  title: "Spoilers",
  context: ["home"],
  filterAction: "warn",
  keywordsAttributes: [{ keyword: "finale", wholeWord: true }],
});
const filters = await alice.v2.filters.list();
check(filters.length === 1 && filters[0].keywords[0].keyword === "finale", "filters");

// The user stream, token as subprotocol.
const streaming = createStreamingAPIClient({
  streamingApiUrl: instance.configuration.urls.streaming,
  accessToken: aliceToken.accessToken,
});
const subscription = streaming.user.subscribe();
const got = (async () => {
  for await (const event of subscription) {
    if (event.event === "update") return event.payload;
  }
})();
// masto opens the socket and subscribes in the background: post until the update comes.
const posts = [];
let update = null;
got.then((u) => (update = u));
for (let i = 0; i < 20 && !update; i++) {
  posts.push(await bob.v1.statuses.create({ status: `the finale was great (${i})` }));
  await new Promise((r) => setTimeout(r, 500));
}
check(update, "no update event on the user stream");
const posted = posts.find((p) => p.id === update.id);
check(posted, `streamed ${update.id}, posted ${posts.map((p) => p.id)}`);
check(update.filtered?.[0]?.filter?.id === filter.id, `filtered: ${JSON.stringify(update.filtered)}`);
subscription.unsubscribe();
streaming.close();

// Home and the list timeline read it back, with pagination.
const home = await alice.v1.timelines.home.list({ limit: 5 });
check(home.some((s) => s.id === posted.id), "home has the post");
const listed = await alice.v1.timelines.list.$select(list.id).list();
check(listed.some((s) => s.id === posted.id), "list timeline has the post");
// Custom emojis on accounts and statuses.
const custom = await alice.v1.customEmojis.list();
check(custom.length === 1 && custom[0].shortcode === "rookery", `custom emojis: ${JSON.stringify(custom)}`);
const named = await alice.v1.accounts.updateCredentials({ displayName: "JS :rookery:" });
check(named.emojis?.[0]?.shortcode === "rookery", `account emojis: ${JSON.stringify(named.emojis)}`);
const shiny = await alice.v1.statuses.create({ status: "hello :rookery:" });
check(shiny.emojis?.[0]?.shortcode === "rookery", `status emojis: ${JSON.stringify(shiny.emojis)}`);

// Polls: posted, voted on, read back with the voter's choices.
const question = await alice.v1.statuses.create({
  status: "Owls or herons?",
  poll: { options: ["owls", "herons"], expiresIn: 600, multiple: false },
});
check(question.poll?.options?.length === 2, `poll: ${JSON.stringify(question.poll)}`);
const vote = await bob.v1.polls.$select(question.poll.id).votes.create({ choices: [1] });
check(vote.voted && vote.ownVotes[0] === 1 && vote.votesCount === 1, `vote: ${JSON.stringify(vote)}`);
const seen = await alice.v1.polls.$select(question.poll.id).fetch();
check(seen.options[1].votesCount === 1, `poll after the vote: ${JSON.stringify(seen)}`);

// Scheduled statuses: scheduled, listed, moved, cancelled.
const at = new Date(Date.now() + 3600 * 1000);
const scheduled = await alice.v1.statuses.create({ status: "later", scheduledAt: at.toISOString() });
check(scheduled.params?.text === "later" && scheduled.scheduledAt, `scheduled: ${JSON.stringify(scheduled)}`);
const waiting = await alice.v1.scheduledStatuses.list();
check(waiting.length === 1 && waiting[0].id === scheduled.id, `scheduled list: ${JSON.stringify(waiting)}`);
const later = new Date(at.getTime() + 3600 * 1000).toISOString();
const moved = await alice.v1.scheduledStatuses.$select(scheduled.id).update({ scheduledAt: later });
check(new Date(moved.scheduledAt) > new Date(scheduled.scheduledAt), `moved: ${JSON.stringify(moved)}`);
await alice.v1.scheduledStatuses.$select(scheduled.id).remove();
check((await alice.v1.scheduledStatuses.list()).length === 0, "cancelled");

// Quote posts (Mastodon 4.5): bob quotes alice's post, alice lists and revokes the quote.
const quotable = await alice.v1.statuses.create({ status: "Quote me", quoteApprovalPolicy: "public" });
check(quotable.quoteApproval?.automatic?.[0] === "public", `policy: ${JSON.stringify(quotable.quoteApproval)}`);
const quoting = await bob.v1.statuses.create({ status: "Quoting alice", quotedStatusId: quotable.id });
check(
  quoting.quote?.state === "accepted" && quoting.quote.quotedStatus?.id === quotable.id,
  `quote: ${JSON.stringify(quoting.quote)}`,
);
const quotes = await alice.v1.statuses.$select(quotable.id).quotes.list();
check(quotes.length === 1 && quotes[0].id === quoting.id, `quotes: ${JSON.stringify(quotes)}`);
const revoked = await alice.v1.statuses.$select(quotable.id).quotes.$select(quoting.id).revoke.create();
check(revoked.quote?.state === "revoked", `revoked: ${JSON.stringify(revoked.quote)}`);
check((await alice.v1.statuses.$select(quotable.id).quotes.list()).length === 0, "revoked quote listed");

// Notification filtering (Mastodon 4.3): bob does not follow alice, so her direct mention waits
// in a request until he accepts it.
const bobPolicy = await bob.v2.notifications.policy.fetch();
check(bobPolicy.forPrivateMentions === "filter", `policy: ${JSON.stringify(bobPolicy)}`);
const whisper = await alice.v1.statuses.create({ status: "@jsbob psst", visibility: "direct" });
const bobRequests = await bob.v1.notifications.requests.list();
check(
  bobRequests.length === 1 && bobRequests[0].lastStatus?.id === whisper.id,
  `requests: ${JSON.stringify(bobRequests)}`,
);
await bob.v1.notifications.requests.$select(bobRequests[0].id).accept();
check((await bob.v1.notifications.requests.merged.fetch()).merged === true, "merged");
const bobNotes = await bob.v1.notifications.list();
check(bobNotes.some((n) => n.status?.id === whisper.id), `notifications: ${JSON.stringify(bobNotes)}`);
const updated = await bob.v2.notifications.policy.update({ forNewAccounts: "filter" });
check(updated.forNewAccounts === "filter" && updated.summary.pendingRequestsCount === 0, "policy update");

console.log("masto.js: all checks passed");
process.exit(0);
