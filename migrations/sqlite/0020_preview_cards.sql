-- Preview cards (docs.joinmastodon.org/entities/PreviewCard/): what a linked page says about
-- itself (OpenGraph), fetched once per URL by a `card.fetch` job and shared by every status that
-- links to it. A status shows the card of its first link.
CREATE TABLE preview_cards (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    image_url     TEXT,
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    provider_name TEXT NOT NULL,
    author_name   TEXT NOT NULL,
    fetched_at    TEXT NOT NULL
);

ALTER TABLE statuses ADD COLUMN card_id INTEGER REFERENCES preview_cards (id) ON DELETE SET NULL;
CREATE INDEX statuses_card ON statuses (card_id) WHERE card_id IS NOT NULL;
