-- CSV imports in Mastodon's formats (issue 27; Mastodon's `bulk_imports`), processed by a durable
-- job (`bulk_import`) row by row; each row's outcome is kept for the user to see.
CREATE TABLE bulk_imports (
    id                BIGINT  PRIMARY KEY,
    account_id        BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- following | blocking | muting | domain_blocking | bookmarks | lists
    type              TEXT    NOT NULL,
    -- Remove what the file does not list (else merge).
    overwrite         BOOLEAN NOT NULL,
    -- scheduled | in_progress | finished
    state             TEXT    NOT NULL,
    original_filename TEXT    NOT NULL,
    total_items       BIGINT  NOT NULL,
    processed_items   BIGINT  NOT NULL DEFAULT 0,
    imported_items    BIGINT  NOT NULL DEFAULT 0,
    failed_items      BIGINT  NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ
);
CREATE INDEX bulk_imports_account ON bulk_imports (account_id, id);

CREATE TABLE bulk_import_rows (
    bulk_import_id BIGINT  NOT NULL REFERENCES bulk_imports (id) ON DELETE CASCADE,
    -- The row's line in the file (1 is the first line, a header included).
    line           BIGINT  NOT NULL,
    -- The row's fields, as a JSON object (`acct`, `show_reblogs`, `notify`, `languages`,
    -- `hide_notifications`, `domain`, `uri`, `list_name`).
    data           JSONB   NOT NULL,
    -- NULL: not processed yet; `imported` or `failed`.
    state          TEXT,
    error          TEXT,
    -- The account or status the row named, once resolved (an overwrite keeps these).
    target_id      BIGINT,
    PRIMARY KEY (bulk_import_id, line)
);
CREATE INDEX bulk_import_rows_failed ON bulk_import_rows (bulk_import_id, line) WHERE state = 'failed';

-- Archives of an account's data ("Request your archive"): built by a durable job
-- (`account_archive`) into the media store under `file_key`, downloadable until `expires_at`.
CREATE TABLE account_archives (
    id         BIGINT  PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- scheduled | building | ready | failed | expired
    state      TEXT    NOT NULL,
    file_key   TEXT,
    size       BIGINT,
    error      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    ready_at   TIMESTAMPTZ,
    expires_at TIMESTAMPTZ
);
CREATE INDEX account_archives_account ON account_archives (account_id, id);
