SET lock_timeout = '2s';
CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now(); -- a semicolon inside the body
  RETURN NEW;
END;
$$;
DO $$ BEGIN RAISE NOTICE 'ok; fine'; END $$;
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, payload jsonb, at timestamptz) PARTITION BY RANGE (at);
