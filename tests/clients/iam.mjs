// The IAM consumer: node-pg with a token from @aws-sdk/rds-signer as the password, from the
// worker-env keys (PGHOST PGPORT PGDATABASE PGUSER AWS_REGION PGSSLROOTCERT); then a password
// login for the same user must be refused (IAM_CHECK_PASSWORD, optional: the harness passes the
// user's real password from Secrets Manager so the refusal is about the auth mode, not a typo).
// TLS: verified against the delivered PGSSLROOTCERT.
import { Signer } from "@aws-sdk/rds-signer";
import { readFileSync } from "node:fs";
import pg from "pg";
import { env, refusedWith, run } from "./lib.mjs";

// node-pg: a connection string's (absent) password would override the password callback, so the fields go in
// one by one; TLS verifies the server against the delivered CA file (rejectUnauthorized is node's default).
function config(password) {
  return {
    host: env("PGHOST"),
    port: Number(env("PGPORT")),
    user: env("PGUSER"),
    database: env("PGDATABASE"),
    ssl: { ca: readFileSync(env("PGSSLROOTCERT"), "utf8") },
    password,
  };
}

await run(async (state) => {
  const signer = new Signer({
    hostname: env("PGHOST"),
    port: Number(env("PGPORT")),
    username: env("PGUSER"),
    region: env("AWS_REGION"),
  });
  state.step = "token-login";
  const client = new pg.Client(config(() => signer.getAuthToken()));
  await client.connect();
  let who;
  try {
    who = (await client.query("SELECT current_user AS u, current_database() AS d")).rows[0];
  } finally {
    await client.end();
  }
  if (who.u !== env("PGUSER")) throw new Error(`connected as ${who.u}, expected ${env("PGUSER")}`);
  state.step = "password-login";
  const sqlstate = await refusedWith(async () => {
    const c = new pg.Client(config(process.env.IAM_CHECK_PASSWORD || "not-a-token-password"));
    try {
      await c.connect();
    } finally {
      await c.end().catch(() => {});
    }
  });
  return { user: who.u, database: who.d, passwordLoginSqlstate: sqlstate };
});
