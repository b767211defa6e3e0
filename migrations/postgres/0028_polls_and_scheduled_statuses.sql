-- Polls (docs.joinmastodon.org/entities/Poll/): one per status at most, local or remote. Option
-- titles and their tallies are JSON arrays of the same length; remote polls' tallies come from the
-- Question's `replies.totalItems`, local ones are recounted from `poll_votes` on every vote.
CREATE TABLE polls (
    id               BIGINT  PRIMARY KEY,
    status_id        BIGINT  NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id       BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    options          JSONB   NOT NULL,
    tallies          JSONB   NOT NULL,
    multiple         BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals      BOOLEAN NOT NULL DEFAULT FALSE,
    votes_count      BIGINT  NOT NULL DEFAULT 0,
    voters_count     BIGINT,
    expires_at       TIMESTAMPTZ,
    -- The end was announced (notifications, the last Update): done once.
    ended            BOOLEAN NOT NULL DEFAULT FALSE,
    -- A batched Update(Question) with new counts is queued (local polls).
    update_queued    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- One row per voter and chosen option; remote votes keep their Note's id.
CREATE TABLE poll_votes (
    id         BIGINT PRIMARY KEY,
    poll_id    BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice     INTEGER NOT NULL,
    uri        TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);
CREATE INDEX poll_votes_account ON poll_votes (account_id, poll_id);

ALTER TABLE statuses ADD COLUMN poll_id BIGINT;

-- Statuses to publish later (docs.joinmastodon.org/entities/ScheduledStatus/): the request's
-- parameters as JSON; a durable job (`job_id`) publishes each at `scheduled_at`.
CREATE TABLE scheduled_statuses (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at   TIMESTAMPTZ NOT NULL,
    params         JSONB  NOT NULL,
    application_id BIGINT,
    -- The job that publishes it (moved when it is rescheduled).
    job_id         BIGINT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, scheduled_at);

-- Uploads held by a scheduled status are not pruned as unattached.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id BIGINT
    REFERENCES scheduled_statuses (id) ON DELETE SET NULL;
