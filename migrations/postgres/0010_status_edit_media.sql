-- The attachments each stored version of a status had, for GET /api/v1/statuses/:id/history.
-- Media an edit took off a status stays (and is not pruned) while a version still shows it.
CREATE TABLE status_edit_media (
    edit_id  BIGINT NOT NULL REFERENCES status_edits (id) ON DELETE CASCADE,
    media_id BIGINT NOT NULL REFERENCES media_attachments (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (edit_id, position)
);
CREATE INDEX status_edit_media_media ON status_edit_media (media_id);
