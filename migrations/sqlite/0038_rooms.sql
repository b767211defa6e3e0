-- Rooms (issue 29): named group chats with members and roles (docs/API.md, "Rooms"). A room is
-- hosted by one server (`local`); its `uri` names it everywhere (the `Group` actor of its server).
CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY,
    uri         TEXT    NOT NULL UNIQUE,
    local       INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    topic       TEXT    NOT NULL DEFAULT '',
    -- An uploaded image (media_attachments of the owner) shown as the room's avatar.
    avatar_media_id INTEGER REFERENCES media_attachments (id) ON DELETE SET NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

-- Who is in a room, or invited to it. `role`: owner | admin | member (exactly one owner per
-- room); `state`: invited | joined. A member sees the messages from `joined_at` on.
CREATE TABLE room_members (
    room_id      INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    invited_by   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    invited_at   TEXT    NOT NULL,
    joined_at    TEXT,
    -- Set by an admin: the member may not post until then.
    silenced_until TEXT,
    -- Set by the member: no unread counts or mentions raised for this room.
    muted        INTEGER NOT NULL DEFAULT 0,
    -- The newest message the member has read (0: none).
    last_read_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX room_members_account ON room_members (account_id);

-- Messages in a room, each by a member. `mentions`: the members it names (account IDs as JSON).
CREATE TABLE room_messages (
    id          INTEGER PRIMARY KEY,
    room_id     INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri         TEXT    NOT NULL UNIQUE,
    in_reply_to_id INTEGER,
    text        TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    mentions    TEXT    NOT NULL DEFAULT '[]',
    created_at  TEXT    NOT NULL
);
CREATE INDEX room_messages_room ON room_messages (room_id, id);
