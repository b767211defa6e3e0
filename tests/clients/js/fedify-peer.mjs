// A small ActivityPub server built on Fedify (@fedify/fedify), the second, independent
// implementation the federation tests talk to (tests/it/fedify.rs). One account, `fred`, on
// http://localhost:PORT; everything is kept in memory. Fedify checks every incoming signature
// (draft-cavage and RFC 9421) and signs what it sends (RFC 9421 first, double-knocking).
//
// The test drives it through a small JSON API on the same port:
//   GET  /control/state                 {followers, following, received: [{type, id, actor, object}]}
//   POST /control/follow  {handle}      follow an account (an actor URL: Fedify looks handles up
//                                       over https only, and Rookery runs on http here)
//   POST /control/note    {content, mentions: [actor URL], visibility: "public"|"direct", inReplyTo?}
//                                       → {id}; to followers (public) and the mentioned accounts
//   POST /control/like    {object}      like a remote Note (sent to its author)
//   POST /control/announce {object}     boost a remote Note (to followers and its author)
//   POST /control/edit    {id, content} edit one of fred's notes (Update to its audience)
//   POST /control/delete  {id}          delete one of fred's notes (Delete with a Tombstone)
//   POST /control/delete-account        delete fred (Delete of the actor), then serve 410
//
// Usage: node fedify-peer.mjs PORT   (prints "listening" once it answers); FIRST_KNOCK=
// draft-cavage-http-signatures-12 makes Fedify sign draft-cavage first. `state.inbound` counts the
// signature schemes of the POSTs received.

// Fedify 1.10 asks for Node 22; this machine has Node 20. What it uses of Node 22 is shimmed here
// (nothing Rookery-side depends on it): ArrayBuffer#transfer.
if (!ArrayBuffer.prototype.transfer) {
  ArrayBuffer.prototype.transfer = function (length = this.byteLength) {
    const copy = new ArrayBuffer(length);
    new Uint8Array(copy).set(new Uint8Array(this, 0, Math.min(length, this.byteLength)));
    return copy;
  };
}

import http from "node:http";
import {
  Accept,
  Announce,
  Create,
  createFederation,
  Delete,
  Endpoints,
  Follow,
  generateCryptoKeyPair,
  InProcessMessageQueue,
  Like,
  MemoryKvStore,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
  Tombstone,
  Undo,
  Update,
} from "@fedify/fedify";
import { Temporal } from "@js-temporal/polyfill";

const port = Number(process.argv[2]);
const origin = `http://localhost:${port}`;
const NAME = "fred";
const keyPair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const followers = new Map(); // actor id → actor object
const following = new Set(); // actor ids whose Accept arrived
const sentFollows = new Map(); // Follow id → the actor id it asked to follow
const notes = new Map(); // note id → { content, mentions: [actor], visibility, inReplyTo, published, updated }
const received = []; // summaries of every activity received
let deleted = false;
let counter = 0;

const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  allowPrivateAddress: true,
  // The scheme Fedify tries first with a server it has not talked to ("rfc9421" by default).
  firstKnock: process.env.FIRST_KNOCK ?? "rfc9421",
});
const inbound = { rfc9421: 0, cavage: 0 }; // signature schemes of the POSTs we received

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== NAME || deleted) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fred Fedify",
      summary: "A Fedify peer in Rookery's tests.",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      url: ctx.getActorUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .mapHandle((_ctx, username) => (username === NAME && !deleted ? NAME : null))
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === NAME ? [keyPair] : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => {
  if (identifier !== NAME) return null;
  return {
    items: [...followers.values()].map((a) => ({ id: a.id, inboxId: a.inboxId, endpoints: a.endpoints })),
  };
});

function noteObject(ctx, id, n) {
  const mentioned = n.mentions.map((a) => a.id);
  const publicPost = n.visibility === "public";
  return new Note({
    id: new URL(id),
    attribution: ctx.getActorUri(NAME),
    content: n.content,
    tos: publicPost ? [PUBLIC_COLLECTION] : mentioned,
    ccs: publicPost ? [ctx.getFollowersUri(NAME), ...mentioned] : [],
    tags: n.mentions.map((a) => new Mention({ href: a.id, name: n.handles[a.id.href] })),
    replyTarget: n.inReplyTo ? new URL(n.inReplyTo) : null,
    published: n.published,
    updated: n.updated ?? null,
  });
}

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (ctx, values) => {
  const id = ctx.getObjectUri(Note, values).href;
  const n = notes.get(id);
  return n ? noteObject(ctx, id, n) : null;
});

function record(type, activity, object) {
  received.push({
    type,
    id: activity.id?.href ?? null,
    actor: activity.actorId?.href ?? null,
    object,
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    if (follow.objectId?.href !== ctx.getActorUri(NAME).href) return;
    const follower = await follow.getActor();
    if (follower == null) return;
    followers.set(follower.id.href, follower);
    record("Follow", follow, follow.objectId.href);
    await ctx.sendActivity(
      { identifier: NAME },
      follower,
      new Accept({ id: new URL(`${origin}/accepts/${++counter}`), actor: ctx.getActorUri(NAME), object: follow }),
      { immediate: true },
    );
  })
  .on(Accept, async (_ctx, accept) => {
    // The Follow is ours: matched by its id rather than fetched (we do not serve Follows).
    const target = sentFollows.get(accept.objectId?.href);
    if (target && target === accept.actorId?.href) following.add(target);
    record("Accept", accept, accept.objectId?.href ?? null);
  })
  .on(Create, async (_ctx, create) => {
    const object = await create.getObject();
    record("Create", create, summarize(object));
  })
  .on(Update, async (_ctx, update) => {
    const object = await update.getObject();
    record("Update", update, summarize(object));
  })
  .on(Delete, async (_ctx, del) => {
    record("Delete", del, del.objectId?.href ?? null);
  })
  .on(Like, async (_ctx, like) => {
    record("Like", like, like.objectId?.href ?? null);
  })
  .on(Announce, async (_ctx, announce) => {
    record("Announce", announce, announce.objectId?.href ?? null);
  })
  .on(Undo, async (_ctx, undo) => {
    const object = await undo.getObject();
    if (object instanceof Follow && object.actorId) followers.delete(object.actorId.href);
    record("Undo", undo, object?.id?.href ?? null);
  })
  .onError((_ctx, error) => {
    console.error("inbox error:", error);
  });

function summarize(object) {
  if (object == null) return null;
  return {
    id: object.id?.href ?? null,
    type: object.constructor.name,
    content: object.content?.toString() ?? null,
    to: object.toIds.map((u) => u.href),
    cc: object.ccIds.map((u) => u.href),
    inReplyTo: object.replyTargetId?.href ?? null,
  };
}

// --- control API ------------------------------------------------------------------------------

async function lookupActor(ctx, handle) {
  const actor = await ctx.lookupObject(handle);
  if (actor == null || actor.inboxId == null) throw new Error(`cannot find ${handle}`);
  return actor;
}

async function audienceOf(ctx, n) {
  const recipients = [...n.mentions];
  if (n.visibility === "public") recipients.push(...followers.values());
  const seen = new Set();
  return recipients.filter((a) => !seen.has(a.id.href) && seen.add(a.id.href));
}

const control = {
  "/control/follow": async (ctx, body) => {
    const actor = await lookupActor(ctx, body.handle);
    const id = `${origin}/follows/${++counter}`;
    sentFollows.set(id, actor.id.href);
    await ctx.sendActivity(
      { identifier: NAME },
      actor,
      new Follow({ id: new URL(id), actor: ctx.getActorUri(NAME), object: actor.id }),
      { immediate: true },
    );
    return { actor: actor.id.href };
  },
  "/control/note": async (ctx, body) => {
    const mentions = [];
    const handles = {};
    for (const h of body.mentions ?? []) {
      const a = await lookupActor(ctx, h);
      mentions.push(a);
      handles[a.id.href] = `@${a.preferredUsername}@${a.id.host}`;
    }
    const id = ctx.getObjectUri(Note, { identifier: NAME, id: String(++counter) }).href;
    const n = {
      content: body.content,
      mentions,
      handles,
      visibility: body.visibility ?? "public",
      inReplyTo: body.inReplyTo ?? null,
      published: Temporal.Now.instant(),
    };
    notes.set(id, n);
    const note = noteObject(ctx, id, n);
    await ctx.sendActivity(
      { identifier: NAME },
      await audienceOf(ctx, n),
      new Create({
        id: new URL(`${id}/activity`),
        actor: ctx.getActorUri(NAME),
        object: note,
        tos: note.toIds,
        ccs: note.ccIds,
        published: n.published,
      }),
      { immediate: true, preferSharedInbox: true },
    );
    return { id };
  },
  "/control/like": async (ctx, body) => {
    const note = await ctx.lookupObject(body.object);
    const author = await note.getAttribution();
    await ctx.sendActivity(
      { identifier: NAME },
      author,
      new Like({ id: new URL(`${origin}/likes/${++counter}`), actor: ctx.getActorUri(NAME), object: note.id }),
      { immediate: true },
    );
    return {};
  },
  "/control/announce": async (ctx, body) => {
    const note = await ctx.lookupObject(body.object);
    const author = await note.getAttribution();
    await ctx.sendActivity(
      { identifier: NAME },
      [author, ...followers.values()],
      new Announce({
        id: new URL(`${origin}/announces/${++counter}`),
        actor: ctx.getActorUri(NAME),
        object: note.id,
        tos: [PUBLIC_COLLECTION],
        ccs: [author.id, ctx.getFollowersUri(NAME)],
        published: Temporal.Now.instant(),
      }),
      { immediate: true, preferSharedInbox: true },
    );
    return {};
  },
  "/control/edit": async (ctx, body) => {
    const n = notes.get(body.id);
    n.content = body.content;
    n.updated = Temporal.Now.instant();
    const note = noteObject(ctx, body.id, n);
    await ctx.sendActivity(
      { identifier: NAME },
      await audienceOf(ctx, n),
      new Update({
        id: new URL(`${body.id}#updates/${++counter}`),
        actor: ctx.getActorUri(NAME),
        object: note,
        tos: note.toIds,
        ccs: note.ccIds,
      }),
      { immediate: true, preferSharedInbox: true },
    );
    return {};
  },
  "/control/delete": async (ctx, body) => {
    const n = notes.get(body.id);
    const audience = await audienceOf(ctx, n);
    notes.delete(body.id);
    await ctx.sendActivity(
      { identifier: NAME },
      audience,
      new Delete({
        id: new URL(`${body.id}#delete`),
        actor: ctx.getActorUri(NAME),
        object: new Tombstone({ id: new URL(body.id) }),
        tos: n.visibility === "public" ? [PUBLIC_COLLECTION] : n.mentions.map((a) => a.id),
      }),
      { immediate: true, preferSharedInbox: true },
    );
    return {};
  },
  "/control/delete-account": async (ctx) => {
    const everyone = [...followers.values()];
    for (const n of notes.values()) everyone.push(...n.mentions);
    const seen = new Set();
    const audience = everyone.filter((a) => !seen.has(a.id.href) && seen.add(a.id.href));
    await ctx.sendActivity(
      { identifier: NAME },
      audience,
      new Delete({
        id: new URL(`${ctx.getActorUri(NAME).href}#delete`),
        actor: ctx.getActorUri(NAME),
        object: ctx.getActorUri(NAME),
        tos: [PUBLIC_COLLECTION],
      }),
      { immediate: true, preferSharedInbox: true },
    );
    deleted = true;
    return {};
  },
};

function headersOf(req) {
  const h = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
    else if (v != null) h.set(k, v);
  }
  return h;
}

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, origin);
    if (url.pathname === "/control/state") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ followers: [...followers.keys()], following: [...following], received, inbound }));
      return;
    }
    if (url.pathname.startsWith("/control/")) {
      const handler = control[url.pathname];
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      const ctx = federation.createContext(new URL(origin), undefined);
      const out = await handler(ctx, body.length ? JSON.parse(body) : {});
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(out));
      return;
    }
    if (deleted && url.pathname.startsWith(`/users/${NAME}`)) {
      res.writeHead(410, { "content-type": "application/activity+json" });
      res.end(JSON.stringify({ id: `${origin}/users/${NAME}`, type: "Tombstone" }));
      return;
    }
    if (req.method === "POST") {
      if (req.headers["signature-input"]) inbound.rfc9421++;
      else if (req.headers["signature"]) inbound.cavage++;
    }
    const request = new Request(url, {
      method: req.method,
      headers: headersOf(req),
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("Not found", { status: 404 }),
      onNotAcceptable: () => new Response("Not acceptable", { status: 406 }),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (e) {
    console.error(e);
    res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(e?.stack ?? e) }));
  }
});

server.listen(port, "127.0.0.1", () => console.log("listening"));
