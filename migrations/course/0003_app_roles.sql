-- The group roles of the course apps (UpskillSecret memberOf): course_readwrite reads and writes rows
-- of the course tables, course_readonly only reads them. Neither may change the schema, TRUNCATE, or
-- touch schema_migrations.
--
-- Roles are cluster-wide, so each is created only when missing (another database of the cluster may
-- have made it first); privileges are per database and are granted here. Tables later migrations
-- create get the same privileges (default privileges of the role running the migrations, in public).
-- Default privileges cover every table that role later creates in public of this database, so this
-- set expects a database of its own (as an UpskillDatabase has: one migration set each).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'course_readwrite') THEN
        CREATE ROLE course_readwrite NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL; -- a concurrent run in another database created it
END;
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'course_readonly') THEN
        CREATE ROLE course_readonly NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL; -- a concurrent run in another database created it
END;
$$;

GRANT USAGE ON SCHEMA public TO course_readwrite, course_readonly;
GRANT SELECT, INSERT, UPDATE, DELETE ON courses, lessons, microlessons, enrollments, progress TO course_readwrite;
GRANT SELECT ON courses, lessons, microlessons, enrollments, progress TO course_readonly;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO course_readwrite;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO course_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO course_readwrite;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO course_readonly;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO course_readwrite;
