-- Executed by the postgres image on first initialisation of the data volume, as the superuser,
-- in $POSTGRES_DB. The app's migrations also create the extension; doing it here as well means
-- the application role never needs the privilege to do so.
CREATE EXTENSION IF NOT EXISTS vector;
-- Calendar window reads use a GiST index over (owner, time range), which needs btree_gist
-- (a contrib extension, trusted since PostgreSQL 13).
CREATE EXTENSION IF NOT EXISTS btree_gist;
