// One-to-one voice and video calls (docs/WEB.md, "Calls"): the browser's own RTCPeerConnection
// carries the media; the server carries the signalling (docs/API.md, "Calls"). Events arrive on
// the streaming WebSocket app.js keeps open (`rookery:stream` events on `document`), and ICE
// candidates and hang-ups go back over it (`rookery:send`) when it is open, else by the API.

const body = document.body;
const csrf = body.dataset.csrf || "";
const me = body.dataset.me || "";
const box = document.getElementById("call");

async function api(method, path, payload, extra) {
  const headers = { "X-CSRF-Token": csrf, "Accept": "application/json", ...extra };
  const init = { method, headers, credentials: "same-origin", keepalive: true };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (!res.ok) throw new Error(json.error || res.statusText);
  return json;
}

function toast(text) {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  t.classList.add("show");
  setTimeout(() => t.classList.remove("show"), 3500);
}

/** Sends `message` over the streaming WebSocket: false when it is not open. */
function overSocket(message) {
  const detail = { message, sent: false };
  document.dispatchEvent(new CustomEvent("rookery:send", { detail }));
  return detail.sent;
}

/**
 * The call on this page, or null: `{ id, role: "caller" | "callee", media, peer: Account,
 * pc, local: MediaStream, offer, remote: [candidates waiting for the remote description],
 * outbox: [own candidates waiting for the call's ID], early: [events before the ID] }`.
 * Also `window.rookeryCall`, for the page tests.
 */
let call = null;
let iceServers = null;
/** The connected call's running time on screen. */
let clock = null;
const ENDS = { ended: "Call ended", declined: "Declined", missed: "Missed call" };

const $ = (sel) => box.querySelector(sel);

function show(state, text) {
  box.hidden = false;
  box.dataset.state = state;
  $("#call-status").textContent = text;
}

function setPeer(account, media) {
  $("#call-name").textContent = account.display_name || account.username;
  $("#call-avatar").src = account.avatar;
  $("#call-media").textContent = media === "video" ? "Video call" : "Voice call";
  box.dataset.media = media;
}

function candidateOut(c) {
  if (!call.id) {
    call.outbox.push(c);
    return;
  }
  const b = { candidate: c.candidate, sdp_mid: c.sdpMid, sdp_m_line_index: c.sdpMLineIndex };
  if (!overSocket({ type: "call.candidate", call_id: call.id, ...b })) {
    api("POST", `/api/v1/calls/${call.id}/candidates`, b).catch(() => {});
  }
}

function candidateIn(c) {
  const init = { candidate: c.candidate, sdpMid: c.sdp_mid, sdpMLineIndex: c.sdp_m_line_index };
  if (call.pc && call.pc.remoteDescription) call.pc.addIceCandidate(init).catch(() => {});
  else call.remote.push(init);
}

async function peerConnection(media) {
  if (!iceServers) iceServers = await api("GET", "/api/v1/calls/ice_servers");
  const pc = new RTCPeerConnection({ iceServers });
  const local = await navigator.mediaDevices.getUserMedia({ audio: true, video: media === "video" });
  for (const t of local.getTracks()) pc.addTrack(t, local);
  $("#call-local").srcObject = local;
  pc.onicecandidate = (e) => {
    if (e.candidate && call && call.pc === pc) candidateOut(e.candidate.toJSON());
  };
  pc.ontrack = (e) => {
    $("#call-remote").srcObject = e.streams[0] || new MediaStream([e.track]);
  };
  pc.onconnectionstatechange = () => {
    if (!call || call.pc !== pc) return;
    if (pc.connectionState === "connected" && !call.connectedAt) {
      call.connectedAt = Date.now();
      show("connected", "Connected");
      clock = setInterval(() => {
        if (!call?.connectedAt) return;
        const s = Math.floor((Date.now() - call.connectedAt) / 1000);
        $("#call-status").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
      }, 1000);
    } else if (pc.connectionState === "failed") {
      hangUp("Could not connect");
    }
  };
  return { pc, local };
}

async function remoteDescription(type, sdp) {
  await call.pc.setRemoteDescription({ type, sdp });
  for (const c of call.remote.splice(0)) await call.pc.addIceCandidate(c).catch(() => {});
}

/** Ends the call on this page, showing `text` for a moment. */
function finish(text) {
  if (!call) return;
  if (call.local) for (const t of call.local.getTracks()) t.stop();
  call.pc?.close();
  call = null;
  window.rookeryCall = null;
  clearInterval(clock);
  show("over", text);
  for (const v of box.querySelectorAll("video")) v.srcObject = null;
  setTimeout(() => { if (!call) box.hidden = true; }, 4000);
}

/** Calls account `id` (`account`: its Account, for the screen). */
async function start(account, media) {
  if (call) { toast("You are already in a call"); return; }
  call = { id: null, role: "caller", media, peer: account, remote: [], outbox: [], early: [] };
  window.rookeryCall = call;
  setPeer(account, media);
  show("outgoing", "Calling…");
  try {
    Object.assign(call, await peerConnection(media));
    const offer = await call.pc.createOffer();
    await call.pc.setLocalDescription(offer);
    const c = await api("POST", "/api/v1/calls", { account_id: account.id, media, sdp: offer.sdp });
    if (!call) { api("POST", `/api/v1/calls/${c.id}/hang_up`).catch(() => {}); return; }
    call.id = c.id;
    show("outgoing", "Ringing…");
    for (const x of call.outbox.splice(0)) candidateOut(x);
    for (const e of call.early.splice(0)) onCall(e);
  } catch (e) {
    toast(e.message);
    finish(e.message);
  }
}

function ring(c) {
  call = { id: c.id, role: "callee", media: c.media, peer: c.caller, offer: c.offer, remote: [], outbox: [] };
  window.rookeryCall = call;
  for (const x of c.candidates) candidateIn(x);
  setPeer(c.caller, c.media);
  show("incoming", "is calling you");
}

async function accept() {
  if (!call || call.role !== "callee" || call.pc) return;
  call.accepting = true;
  show("connecting", "Connecting…");
  try {
    Object.assign(call, await peerConnection(call.media));
    await remoteDescription("offer", call.offer);
    const answer = await call.pc.createAnswer();
    await call.pc.setLocalDescription(answer);
    await api("POST", `/api/v1/calls/${call.id}/accept`, { sdp: answer.sdp });
  } catch (e) {
    toast(e.message);
    hangUp(e.message);
  }
}

async function decline() {
  if (!call) return;
  const id = call.id;
  finish("Declined");
  try { await api("POST", `/api/v1/calls/${id}/decline`); } catch (e) { toast(e.message); }
}

function hangUp(text) {
  if (!call) return;
  const id = call.id;
  finish(text || "Call ended");
  if (id && !overSocket({ type: "call.hang_up", call_id: id })) {
    api("POST", `/api/v1/calls/${id}/hang_up`).catch(() => {});
  }
}

/** A `rookery.call` event: the call changed. */
function onCall(c) {
  if (!c) return;
  if (call && !call.id && call.role === "caller" && c.caller.id === me) {
    // Before the call's own answer came back: kept until its ID is known.
    if (c.state !== "ringing") call.early.push(c);
    return;
  }
  if (call && call.id === c.id) {
    if (c.state in ENDS) finish(ENDS[c.state]);
    else if (c.state === "active" && call.role === "caller" && !call.answered) {
      call.answered = true;
      show("connecting", "Connecting…");
      remoteDescription("answer", c.answer).catch((e) => hangUp(e.message));
    } else if (c.state === "active" && call.role === "callee" && !call.accepting) {
      finish("Answered elsewhere");
    }
    return;
  }
  if (!call && c.state === "ringing" && c.callee.id === me) ring(c);
}

function onCandidate(p) {
  if (p && call && call.id === p.call_id) candidateIn(p);
}

if (box && me) {
  document.addEventListener("rookery:stream", (e) => {
    const { event, payload } = e.detail;
    if (event === "rookery.call") onCall(payload);
    else if (event === "rookery.call.candidate") onCandidate(payload);
  });
  box.addEventListener("click", (e) => {
    const action = e.target.closest("[data-call]")?.dataset.call;
    if (action === "accept") accept();
    else if (action === "decline") decline();
    else if (action === "hang_up") hangUp();
    else if (action === "mute" || action === "camera") {
      const button = e.target.closest("button");
      const off = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", String(off));
      const kind = action === "mute" ? "audio" : "video";
      for (const t of call?.local?.getTracks() || []) if (t.kind === kind) t.enabled = !off;
    }
  });
  for (const b of document.querySelectorAll("[data-call-start]")) {
    b.addEventListener("click", async () => {
      try {
        const account = await api("GET", `/api/v1/accounts/${b.dataset.account}`);
        start(account, b.dataset.callStart);
      } catch (e) {
        toast(e.message);
      }
    });
  }
  // A call that rang before this page opened.
  api("GET", "/api/v1/calls?limit=5").then((list) => {
    const ringing = list.find((c) => c.state === "ringing" && c.callee.id === me);
    if (ringing && !call) ring(ringing);
  }).catch(() => {});
  // Leaving the page hangs up (the socket still takes a message while the page unloads).
  window.addEventListener("pagehide", () => { if (call && call.id) hangUp(); });
}
