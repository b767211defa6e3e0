-- Which HTTP signature scheme a server takes on our deliveries, learnt by double-knocking: 'rfc9421'
-- (it accepted one), 'cavage' (it refused one with 400 or 401, and draft-cavage is used from then
-- on), or NULL (not tried yet).
ALTER TABLE instances ADD COLUMN http_signatures TEXT;
