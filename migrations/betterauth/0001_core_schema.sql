-- BetterAuth core schema for PostgreSQL: the tables "user", "session", "account" and
-- "verification", exactly as BetterAuth's built-in Kysely adapter creates them with default
-- options (no plugins, no custom model or field names, generated string ids).
--
-- Checked against (better-auth/better-auth on GitHub):
--   * docs/content/docs/concepts/database.mdx @ 3d78d38d ("Core Schema", the 1.4 docs):
--     table and field names, which fields are optional, unique and foreign keys;
--   * packages/core/src/db/get-tables.ts @ 0347c0d5: field order, required/unique/index flags,
--     the userId references (onDelete cascade), which date fields have a default;
--   * packages/better-auth/src/db/get-migration.ts @ 008da639: the PostgreSQL type map
--     (string -> text, boolean -> boolean, date -> timestamptz, id -> text primary key),
--     DEFAULT CURRENT_TIMESTAMP only for date fields with a default, inline UNIQUE for unique fields;
--   * packages/core/src/db/database-index.ts @ 22fc1a81: index names <table>_<column>_idx.
--
-- Column names are camelCase, so they are quoted; "user" is a reserved word, so it is quoted too.
-- tests/integration/test_migrations_schema.py asserts every column's name, type and nullability.

CREATE TABLE "user" (
    "id" text NOT NULL PRIMARY KEY,
    "name" text NOT NULL,
    "email" text NOT NULL UNIQUE,
    "emailVerified" boolean NOT NULL,
    "image" text,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "session" (
    "id" text NOT NULL PRIMARY KEY,
    "expiresAt" timestamptz NOT NULL,
    "token" text NOT NULL UNIQUE,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL,
    "ipAddress" text,
    "userAgent" text,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);

CREATE TABLE "account" (
    "id" text NOT NULL PRIMARY KEY,
    "accountId" text NOT NULL,
    "providerId" text NOT NULL,
    "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
    "accessToken" text,
    "refreshToken" text,
    "idToken" text,
    "accessTokenExpiresAt" timestamptz,
    "refreshTokenExpiresAt" timestamptz,
    "scope" text,
    "password" text,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL
);

CREATE TABLE "verification" (
    "id" text NOT NULL PRIMARY KEY,
    "identifier" text NOT NULL,
    "value" text NOT NULL,
    "expiresAt" timestamptz NOT NULL,
    "createdAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The lookups BetterAuth makes on every request: a user's sessions and accounts, and a
-- verification by its identifier (the email or the token being verified).
CREATE INDEX "session_userId_idx" ON "session" ("userId");
CREATE INDEX "account_userId_idx" ON "account" ("userId");
CREATE INDEX "verification_identifier_idx" ON "verification" ("identifier");
