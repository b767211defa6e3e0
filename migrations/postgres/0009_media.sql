-- Media attachments (uploads, remote attachments stored by reference, avatars and headers), the
-- durable job queue that processes them, and the flags that make media galleries fast.

CREATE TABLE media_attachments (
    id                   BIGINT PRIMARY KEY,
    account_id           BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The status it is attached to; NULL until posted, and again after the status is deleted (so
    -- "delete and redraft" can reuse it). Unattached media is pruned after a day.
    status_id            BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    -- Order within the status (0-3).
    position             BIGINT NOT NULL DEFAULT 0,
    -- image | gifv | video | audio | unknown
    type                 TEXT    NOT NULL,
    -- processing | ready | failed
    state                TEXT    NOT NULL,
    -- Object-store keys of the processed file and its preview, with their content types.
    file_key             TEXT,
    file_content_type    TEXT,
    file_size            BIGINT,
    preview_key          TEXT,
    -- The uploaded file while it waits to be transcoded.
    upload_key           TEXT,
    -- Remote media: where it lives at its origin; cached_at is set while a copy is kept here.
    remote_url           TEXT,
    remote_preview_url   TEXT,
    cached_at            TIMESTAMPTZ,
    description          TEXT    NOT NULL DEFAULT '',
    focus_x              DOUBLE PRECISION    NOT NULL DEFAULT 0,
    focus_y              DOUBLE PRECISION    NOT NULL DEFAULT 0,
    blurhash             TEXT,
    -- Mastodon's `meta` object (original/small sizes, duration, fps …) as JSON.
    meta                 JSONB   NOT NULL DEFAULT '{}',
    -- Transcoding progress, 0 to 1, while processing.
    progress             DOUBLE PRECISION,
    -- Why processing failed, shown to the uploader.
    error                TEXT,
    created_at           TIMESTAMPTZ    NOT NULL,
    updated_at           TIMESTAMPTZ    NOT NULL
);
CREATE INDEX media_attachments_status ON media_attachments (status_id, position);
CREATE INDEX media_attachments_unattached ON media_attachments (created_at) WHERE status_id IS NULL;
CREATE INDEX media_attachments_cached ON media_attachments (cached_at) WHERE cached_at IS NOT NULL;

-- Statuses with at least one attachment: the media tab of a profile and only_media timelines.
ALTER TABLE statuses ADD COLUMN has_media BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX statuses_account_media ON statuses (account_id, id) WHERE has_media;

ALTER TABLE accounts ADD COLUMN avatar_media_id BIGINT REFERENCES media_attachments (id) ON DELETE SET NULL;
ALTER TABLE accounts ADD COLUMN header_media_id BIGINT REFERENCES media_attachments (id) ON DELETE SET NULL;

-- Durable background jobs other than deliveries (media processing, cleanup). A worker claims a
-- due job until leased_until and keeps extending the claim while it works; a crashed worker's
-- jobs become due again when the claim lapses. Finished jobs are deleted.
CREATE TABLE jobs (
    id           BIGINT PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      JSONB    NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    run_at       TIMESTAMPTZ    NOT NULL,
    leased_until TIMESTAMPTZ,
    last_error   TEXT,
    created_at   TIMESTAMPTZ    NOT NULL
);
CREATE INDEX jobs_due ON jobs (kind, run_at);
