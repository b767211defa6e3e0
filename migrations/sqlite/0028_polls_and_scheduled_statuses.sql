-- Polls (docs.joinmastodon.org/entities/Poll/): one per status at most, local or remote. Option
-- titles and their tallies are JSON arrays of the same length; remote polls' tallies come from the
-- Question's `replies.totalItems`, local ones are recounted from `poll_votes` on every vote.
CREATE TABLE polls (
    id               INTEGER PRIMARY KEY,
    status_id        INTEGER NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id       INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    options          TEXT    NOT NULL,
    tallies          TEXT    NOT NULL,
    multiple         BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals      BOOLEAN NOT NULL DEFAULT FALSE,
    votes_count      INTEGER NOT NULL DEFAULT 0,
    voters_count     INTEGER,
    expires_at       TEXT,
    -- The end was announced (notifications, the last Update): done once.
    ended            BOOLEAN NOT NULL DEFAULT FALSE,
    -- A batched Update(Question) with new counts is queued (local polls).
    update_queued    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at       TEXT    NOT NULL
);

-- One row per voter and chosen option; remote votes keep their Note's id.
CREATE TABLE poll_votes (
    id         INTEGER PRIMARY KEY,
    poll_id    INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice     INTEGER NOT NULL,
    uri        TEXT,
    created_at TEXT    NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);
CREATE INDEX poll_votes_account ON poll_votes (account_id, poll_id);

ALTER TABLE statuses ADD COLUMN poll_id INTEGER;

-- Statuses to publish later (docs.joinmastodon.org/entities/ScheduledStatus/): the request's
-- parameters as JSON; a durable job (`job_id`) publishes each at `scheduled_at`.
CREATE TABLE scheduled_statuses (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at   TEXT    NOT NULL,
    params         TEXT    NOT NULL,
    application_id INTEGER,
    -- The job that publishes it (moved when it is rescheduled).
    job_id         INTEGER,
    created_at     TEXT    NOT NULL
);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, scheduled_at);

-- Uploads held by a scheduled status are not pruned as unattached.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id INTEGER
    REFERENCES scheduled_statuses (id) ON DELETE SET NULL;
