-- Accounts (local and remote in one table), local users, OAuth applications, codes, tokens and
-- browser sessions for the sign-in pages.

CREATE TABLE accounts (
    id               BIGINT PRIMARY KEY,
    username         TEXT    NOT NULL,
    -- NULL for local accounts; the host (with port in dev) for remote ones.
    domain           TEXT,
    display_name     TEXT    NOT NULL DEFAULT '',
    -- Sanitised HTML as shown to clients.
    note             TEXT    NOT NULL DEFAULT '',
    -- [{"name": "...", "value": "<html>", "verified_at": null}]
    fields           JSONB   NOT NULL DEFAULT '[]',
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    bot              BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable     BOOLEAN NOT NULL DEFAULT TRUE,
    -- ActivityPub actor id and profile page.
    uri              TEXT    NOT NULL,
    url              TEXT,
    inbox_url        TEXT,
    shared_inbox_url TEXT,
    public_key_pem   TEXT,
    private_key_pem  TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX accounts_username_domain ON accounts (lower(username), coalesce(lower(domain), ''));
CREATE UNIQUE INDEX accounts_uri ON accounts (uri);

CREATE TABLE users (
    id              BIGINT PRIMARY KEY,
    account_id      BIGINT NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    email           TEXT    NOT NULL,
    -- argon2id PHC string.
    password_hash   TEXT    NOT NULL,
    -- user | moderator | admin
    role            TEXT    NOT NULL DEFAULT 'user',
    confirmed_at    TIMESTAMPTZ,
    approved        BOOLEAN NOT NULL DEFAULT TRUE,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    locale          TEXT,
    sign_up_reason  TEXT,
    -- Last successful sign-in (form or token grant); feeds nodeinfo's active-user counts.
    last_sign_in_at TIMESTAMPTZ,
    -- Posting defaults shown as Account.source: {"privacy","sensitive","language"}.
    settings        JSONB   NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE oauth_applications (
    id             BIGINT PRIMARY KEY,
    name           TEXT    NOT NULL,
    website        TEXT,
    -- One redirect URI per line.
    redirect_uris  TEXT    NOT NULL,
    -- Space-separated scopes the app may ask for.
    scopes         TEXT    NOT NULL,
    client_id      TEXT    NOT NULL UNIQUE,
    -- SHA-256 (hex) of the client secret; the secret itself is shown once.
    client_secret_hash TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_authorization_codes (
    -- SHA-256 (hex) of the code.
    code_hash             TEXT    PRIMARY KEY,
    application_id        BIGINT NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    user_id               BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            TIMESTAMPTZ NOT NULL,
    used_at               TIMESTAMPTZ,
    created_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_access_tokens (
    id             BIGINT PRIMARY KEY,
    -- SHA-256 (hex) of the bearer token.
    token_hash     TEXT    NOT NULL UNIQUE,
    application_id BIGINT NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
    -- NULL for client_credentials (app-only) tokens.
    user_id        BIGINT REFERENCES users (id) ON DELETE CASCADE,
    scopes         TEXT    NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ
);
CREATE INDEX oauth_access_tokens_user ON oauth_access_tokens (user_id);

CREATE TABLE web_sessions (
    id           BIGINT PRIMARY KEY,
    -- SHA-256 (hex) of the session cookie value.
    token_hash   TEXT    NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);

-- Custom emojis offered by this instance (added with `rookery admin emoji add`). Remote emojis join
-- this table with a domain when federation brings them.
CREATE TABLE custom_emojis (
    id                BIGINT PRIMARY KEY,
    shortcode         TEXT    NOT NULL,
    -- NULL for this instance's own emojis.
    domain            TEXT,
    -- Path under media.dir for local files, or the remote URL.
    image_path        TEXT    NOT NULL,
    content_type      TEXT    NOT NULL,
    category          TEXT,
    visible_in_picker BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX custom_emojis_shortcode_domain ON custom_emojis (shortcode, coalesce(domain, ''));
