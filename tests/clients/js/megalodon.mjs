// megalodon against a running Rookery: registers an app, signs in, reads home, lists and filters,
// and receives a `user` stream event over its WebSocket (token in the query, as megalodon sends it).
// Usage: node megalodon.mjs BASE_URL   (accounts jsalice and jsbob, password "javascript is fun")
import megalodon from "megalodon";

// A CommonJS package: its default export sits under `default`.
const generator = megalodon.default ?? megalodon;

const base = process.argv[2];
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
const check = (cond, msg) => cond || fail(msg);

const anon = generator("mastodon", base);
const app = await anon.registerApp("megalodon test", { scopes: ["read", "write", "follow", "push"] });
check(app.client_id && app.client_secret, `app: ${JSON.stringify(app)}`);
// megalodon has no password grant: ask /oauth/token as a script would, then hand it the token.
const signIn = async (login) => {
  const r = await fetch(`${base}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "password",
      client_id: app.client_id,
      client_secret: app.client_secret,
      username: `${login}@example.com`,
      password: "javascript is fun",
      scope: "read write follow push",
    }),
  });
  check(r.ok, `token: ${r.status}`);
  return (await r.json()).access_token;
};
const alice = generator("mastodon", base, await signIn("jsalice"));
const bob = generator("mastodon", base, await signIn("jsbob"));

const me = (await alice.verifyAccountCredentials()).data;
check(me.username === "jsalice", `verifyAccountCredentials: ${me.username}`);
const lists = (await alice.getLists()).data;
check(Array.isArray(lists) && lists.length === 1, `lists: ${JSON.stringify(lists)}`);
const filters = (await alice.getFilters()).data;
check(Array.isArray(filters) && filters.length === 1 && filters[0].phrase === "finale", `filters: ${JSON.stringify(filters)}`);

const socket = alice.userSocket();
const got = new Promise((resolve, reject) => {
  socket.on("update", (status) => resolve(status));
  socket.on("error", (e) => reject(e));
  setTimeout(() => reject(new Error("no update event")), 10000);
});
await new Promise((resolve) => socket.on("connect", resolve));
const posts = [];
let update = null;
got.then((u) => (update = u)).catch((e) => fail(e.message));
for (let i = 0; i < 20 && !update; i++) {
  posts.push((await bob.postStatus(`megalodon says hello (${i})`)).data);
  await new Promise((r) => setTimeout(r, 500));
}
check(update, "no update event on the user stream");
const posted = posts.find((p) => p.id === update.id);
check(posted, `streamed ${update.id}, posted ${posts.map((p) => p.id)}`);
socket.stop();

const home = (await alice.getHomeTimeline({ limit: 5 })).data;
check(home.some((s) => s.id === posted.id), "home has the post");
console.log("megalodon: all checks passed");
process.exit(0);
