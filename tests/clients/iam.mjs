// The IAM consumer: node-pg with a token from @aws-sdk/rds-signer as the password, from the
// worker-env keys (PGHOST PGPORT PGDATABASE PGUSER AWS_REGION PGSSLROOTCERT); then a password
// login for the same user must be refused (IAM_CHECK_PASSWORD, optional: the harness passes the
// user's real password from Secrets Manager so the refusal is about the auth mode, not a typo).
// TLS: verify-full against the delivered PGSSLROOTCERT (PGSSLMODE, when set, wins).
import { Signer } from "@aws-sdk/rds-signer";
import pg from "pg";
import { env, refusedWith, run } from "./lib.mjs";

function url() {
  const host = env("PGHOST");
  const port = env("PGPORT");
  const q = new URLSearchParams({ sslmode: process.env.PGSSLMODE || "verify-full", sslrootcert: env("PGSSLROOTCERT") });
  return `postgresql://${encodeURIComponent(env("PGUSER"))}@${host}:${port}/${encodeURIComponent(env("PGDATABASE"))}?${q}`;
}

await run(async (state) => {
  const signer = new Signer({
    hostname: env("PGHOST"),
    port: Number(env("PGPORT")),
    username: env("PGUSER"),
    region: env("AWS_REGION"),
  });
  state.step = "token-login";
  const client = new pg.Client({ connectionString: url(), password: () => signer.getAuthToken() });
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
    const c = new pg.Client({ connectionString: url(), password: process.env.IAM_CHECK_PASSWORD || "not-a-token-password" });
    try {
      await c.connect();
    } finally {
      await c.end().catch(() => {});
    }
  });
  return { user: who.u, database: who.d, passwordLoginSqlstate: sqlstate };
});
