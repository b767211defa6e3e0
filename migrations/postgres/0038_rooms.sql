-- Rooms (issue 29): named group chats with members and roles (docs/API.md, "Rooms"). A room is
-- hosted by one server (`local`); its `uri` names it everywhere (the `Group` actor of its server).
CREATE TABLE rooms (
    id          BIGINT PRIMARY KEY,
    uri         TEXT    NOT NULL UNIQUE,
    local       BOOLEAN NOT NULL,
    name        TEXT    NOT NULL,
    topic       TEXT    NOT NULL DEFAULT '',
    -- An uploaded image (media_attachments of the owner) shown as the room's avatar.
    avatar_media_id BIGINT REFERENCES media_attachments (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Who is in a room, or invited to it. `role`: owner | admin | member (exactly one owner per
-- room); `state`: invited | joined. A member sees the messages from `joined_at` on.
CREATE TABLE room_members (
    room_id      BIGINT  NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id   BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    invited_by   BIGINT  REFERENCES accounts (id) ON DELETE SET NULL,
    invited_at   TIMESTAMPTZ NOT NULL,
    joined_at    TIMESTAMPTZ,
    -- Set by an admin: the member may not post until then.
    silenced_until TIMESTAMPTZ,
    -- Set by the member: no unread counts or mentions raised for this room.
    muted        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The newest message the member has read (0: none).
    last_read_id BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX room_members_account ON room_members (account_id);

-- Messages in a room, each by a member. `mentions`: the members it names (account IDs as JSON).
CREATE TABLE room_messages (
    id          BIGINT PRIMARY KEY,
    room_id     BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri         TEXT   NOT NULL UNIQUE,
    in_reply_to_id BIGINT,
    text        TEXT   NOT NULL,
    content     TEXT   NOT NULL,
    mentions    JSONB  NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX room_messages_room ON room_messages (room_id, id);
