-- Accounts (local and remote in one table), local users, OAuth applications, codes, tokens and
-- browser sessions for the sign-in pages.

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    username         TEXT    NOT NULL,
    -- NULL for local accounts; the host (with port in dev) for remote ones.
    domain           TEXT,
    display_name     TEXT    NOT NULL DEFAULT '',
    -- Sanitised HTML as shown to clients.
    note             TEXT    NOT NULL DEFAULT '',
    -- [{"name": "...", "value": "<html>", "verified_at": null}]
    fields           TEXT    NOT NULL DEFAULT '[]',
    locked           INTEGER NOT NULL DEFAULT 0,
    bot              INTEGER NOT NULL DEFAULT 0,
    discoverable     INTEGER NOT NULL DEFAULT 1,
    -- ActivityPub actor id and profile page.
    uri              TEXT    NOT NULL,
    url              TEXT,
    inbox_url        TEXT,
    shared_inbox_url TEXT,
    public_key_pem   TEXT,
    private_key_pem  TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), coalesce(lower(domain), ''));
CREATE UNIQUE INDEX accounts_uri ON accounts (uri);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    email           TEXT    NOT NULL,
    -- argon2id PHC string.
    password_hash   TEXT    NOT NULL,
    -- user | moderator | admin
    role            TEXT    NOT NULL DEFAULT 'user',
    confirmed_at    TEXT,
    approved        INTEGER NOT NULL DEFAULT 1,
    disabled        INTEGER NOT NULL DEFAULT 0,
    locale          TEXT,
    sign_up_reason  TEXT,
    -- Last successful sign-in (form or token grant); feeds nodeinfo's active-user counts.
    last_sign_in_at TEXT,
    -- Posting defaults shown as Account.source: {"privacy","sensitive","language"}.
    settings        TEXT    NOT NULL DEFAULT '{}',
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE oauth_applications (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    website        TEXT,
    -- One redirect URI per line.
    redirect_uris  TEXT    NOT NULL,
    -- Space-separated scopes the app may ask for.
    scopes         TEXT    NOT NULL,
    client_id      TEXT    NOT NULL UNIQUE,
    -- SHA-256 (hex) of the client secret; the secret itself is shown once.
    client_secret_hash TEXT NOT NULL,
    created_at     TEXT    NOT NULL
);

CREATE TABLE oauth_authorization_codes (
    -- SHA-256 (hex) of the code.
    code_hash             TEXT    PRIMARY KEY,
    application_id        INTEGER NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    user_id               INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            TEXT    NOT NULL,
    used_at               TEXT,
    created_at            TEXT    NOT NULL
);

CREATE TABLE oauth_access_tokens (
    id             INTEGER PRIMARY KEY,
    -- SHA-256 (hex) of the bearer token.
    token_hash     TEXT    NOT NULL UNIQUE,
    application_id INTEGER NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    -- NULL for client_credentials (app-only) tokens.
    user_id        INTEGER REFERENCES users (id) ON DELETE CASCADE,
    scopes         TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    revoked_at     TEXT
);
CREATE INDEX oauth_access_tokens_user ON oauth_access_tokens (user_id);

CREATE TABLE web_sessions (
    id           INTEGER PRIMARY KEY,
    -- SHA-256 (hex) of the session cookie value.
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent   TEXT,
    created_at   TEXT    NOT NULL,
    revoked_at   TEXT
);

-- Custom emojis offered by this instance (added with `rookery admin emoji add`). Remote emojis join
-- this table with a domain when federation brings them.
CREATE TABLE custom_emojis (
    id                INTEGER PRIMARY KEY,
    shortcode         TEXT    NOT NULL,
    -- NULL for this instance's own emojis.
    domain            TEXT,
    -- Path under media.dir for local files, or the remote URL.
    image_path        TEXT    NOT NULL,
    content_type      TEXT    NOT NULL,
    category          TEXT,
    visible_in_picker INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX custom_emojis_shortcode_domain ON custom_emojis (shortcode, coalesce(domain, ''));
