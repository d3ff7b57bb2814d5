-- The group role BetterAuth's application user is a member of (UpskillSecret memberOf: [betterauth_app]).
--
-- Roles are cluster-wide, so the role is created only when missing (another database of the cluster
-- may have made it first); its privileges are per database and are granted here.
-- betterauth_app may read and write rows of BetterAuth's tables, nothing else: no DDL, no TRUNCATE,
-- no schema_migrations. Tables later migrations create get the same privileges (default privileges
-- of the role running the migrations, in schema public).
-- Default privileges cover every table that role later creates in public of this database, so this
-- set expects a database of its own (as an UpskillDatabase has: one migration set each).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'betterauth_app') THEN
        CREATE ROLE betterauth_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL; -- a concurrent run in another database created it
END;
$$;

GRANT USAGE ON SCHEMA public TO betterauth_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON "user", "session", "account", "verification" TO betterauth_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO betterauth_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO betterauth_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO betterauth_app;
