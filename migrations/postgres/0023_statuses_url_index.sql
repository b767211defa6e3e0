-- Remote objects are looked up by ID or by their HTML `url` ("uri = $1 OR url = $1": the inbox's
-- replay check, replies' parents, boosts, likes, deletes, search by URL). Without an index on url
-- that OR read every status: each incoming activity cost a scan of the whole table.
CREATE INDEX statuses_url ON statuses (url) WHERE url IS NOT NULL;
