-- One-to-one voice and video calls (issue 29; docs/API.md "Calls", docs/FEDERATION.md "Calls").
-- The media go between the browsers (WebRTC); the server keeps each call's signalling: who calls
-- whom, the SDP offer and answer, and the ICE candidates each side sent, so a page opened while
-- the phone rings still finds them. `uri` names the call on the caller's server, everywhere.
-- `state`: ringing | active | ended | declined | missed.
CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    uri         TEXT    NOT NULL UNIQUE,
    caller_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    callee_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- audio | video
    media       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    offer       TEXT    NOT NULL,
    answer      TEXT,
    created_at  TEXT NOT NULL,
    answered_at TEXT,
    ended_at    TEXT
);
CREATE INDEX calls_caller ON calls (caller_id, id);
CREATE INDEX calls_callee ON calls (callee_id, id);

-- ICE candidates of a call, in the order sent. `from_caller`: sent by the caller (else the callee).
CREATE TABLE call_candidates (
    id          INTEGER PRIMARY KEY,
    call_id     INTEGER NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    from_caller INTEGER NOT NULL,
    candidate   TEXT    NOT NULL,
    sdp_mid     TEXT,
    sdp_m_line_index INTEGER
);
CREATE INDEX call_candidates_call ON call_candidates (call_id, id);

-- A missed call's notification (`missed_call`) names its call, so each missed call is one.
ALTER TABLE notifications ADD COLUMN call_id INTEGER REFERENCES calls (id) ON DELETE CASCADE;
DROP INDEX notifications_dedupe;
CREATE UNIQUE INDEX notifications_dedupe ON notifications
    (account_id, from_account_id, type, coalesce(status_id, 0), coalesce(story_id, 0),
     coalesce(report_id, 0), coalesce(call_id, 0));

-- Rooms for servers without them (docs/FEDERATION.md, "Rooms"): whether a server's NodeInfo lists
-- the `rooms` feature, and the direct messages sent in a room's name to its members on servers
-- that do not, by which their replies are taken back into the room.
ALTER TABLE instances ADD COLUMN rooms BOOLEAN;
CREATE TABLE room_fallback_notes (
    uri         TEXT    PRIMARY KEY,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- The member (on a server without rooms) it was sent to.
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);
CREATE INDEX room_fallback_notes_member ON room_fallback_notes (room_id, account_id, created_at);
