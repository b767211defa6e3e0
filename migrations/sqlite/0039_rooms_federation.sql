-- Rooms across servers (issue 29; docs/FEDERATION.md, "Rooms"). A room hosted here is a `Group`
-- actor with a key pair of its own (made the first time it federates); a room hosted elsewhere is
-- a copy kept for this server's members, with the host's inbox for what they do in it.
ALTER TABLE rooms ADD COLUMN public_key_pem TEXT;
ALTER TABLE rooms ADD COLUMN private_key_pem TEXT;
ALTER TABLE rooms ADD COLUMN inbox_url TEXT;

-- A delivery a room sends: signed with the room's key, not its `actor_id` account's (the owner,
-- kept so the row's reference stays valid).
ALTER TABLE deliveries ADD COLUMN room_id INTEGER;
