-- Media attachments (uploads, remote attachments stored by reference, avatars and headers), the
-- durable job queue that processes them, and the flags that make media galleries fast.

CREATE TABLE media_attachments (
    id                   INTEGER PRIMARY KEY,
    account_id           INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The status it is attached to; NULL until posted, and again after the status is deleted (so
    -- "delete and redraft" can reuse it). Unattached media is pruned after a day.
    status_id            INTEGER REFERENCES statuses (id) ON DELETE SET NULL,
    -- Order within the status (0-3).
    position             INTEGER NOT NULL DEFAULT 0,
    -- image | gifv | video | audio | unknown
    type                 TEXT    NOT NULL,
    -- processing | ready | failed
    state                TEXT    NOT NULL,
    -- Object-store keys of the processed file and its preview, with their content types.
    file_key             TEXT,
    file_content_type    TEXT,
    file_size            INTEGER,
    preview_key          TEXT,
    -- The uploaded file while it waits to be transcoded.
    upload_key           TEXT,
    -- Remote media: where it lives at its origin; cached_at is set while a copy is kept here.
    remote_url           TEXT,
    remote_preview_url   TEXT,
    cached_at            TEXT,
    description          TEXT    NOT NULL DEFAULT '',
    focus_x              REAL    NOT NULL DEFAULT 0,
    focus_y              REAL    NOT NULL DEFAULT 0,
    blurhash             TEXT,
    -- Mastodon's `meta` object (original/small sizes, duration, fps …) as JSON.
    meta                 TEXT    NOT NULL DEFAULT '{}',
    -- Transcoding progress, 0 to 1, while processing.
    progress             REAL,
    -- Why processing failed, shown to the uploader.
    error                TEXT,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE INDEX media_attachments_status ON media_attachments (status_id, position);
CREATE INDEX media_attachments_unattached ON media_attachments (created_at) WHERE status_id IS NULL;
CREATE INDEX media_attachments_cached ON media_attachments (cached_at) WHERE cached_at IS NOT NULL;

-- Statuses with at least one attachment: the media tab of a profile and only_media timelines.
ALTER TABLE statuses ADD COLUMN has_media BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX statuses_account_media ON statuses (account_id, id) WHERE has_media;

ALTER TABLE accounts ADD COLUMN avatar_media_id INTEGER REFERENCES media_attachments (id) ON DELETE SET NULL;
ALTER TABLE accounts ADD COLUMN header_media_id INTEGER REFERENCES media_attachments (id) ON DELETE SET NULL;

-- Durable background jobs other than deliveries (media processing, cleanup). A worker claims a
-- due job until leased_until and keeps extending the claim while it works; a crashed worker's
-- jobs become due again when the claim lapses. Finished jobs are deleted.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    run_at       TEXT    NOT NULL,
    leased_until TEXT,
    last_error   TEXT,
    created_at   TEXT    NOT NULL
);
CREATE INDEX jobs_due ON jobs (kind, run_at);
