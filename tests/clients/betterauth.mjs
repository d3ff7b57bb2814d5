// BetterAuth on node-pg with AUTH_DB_URL and BETTER_AUTH_SECRET: its own migration check must
// find nothing to create or add; then sign up, sign in and read the session through auth.api.
import { randomUUID } from "node:crypto";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { env, pool as appPool, run } from "./lib.mjs";

function cookieFrom(headers) {
  const cookies = headers.getSetCookie().map((c) => c.split(";")[0]);
  if (cookies.length === 0) throw new Error("sign-in returned no session cookie");
  return cookies.join("; ");
}

await run(async (state) => {
  const pool = appPool(env("AUTH_DB_URL"), { max: 2 });
  const options = {
    database: pool,
    secret: env("BETTER_AUTH_SECRET"),
    baseURL: "http://localhost:3000",
    emailAndPassword: { enabled: true },
  };
  try {
    state.step = "migrations";
    const plan = await getMigrations(options, { throwOnUnsafe: false });
    const pending = {
      toBeCreated: plan.toBeCreated.map((t) => t.table),
      toBeAdded: plan.toBeAdded.map((t) => `${t.table}(${Object.keys(t.fields).join(",")})`),
      toBeAddedIndexes: plan.toBeAddedIndexes.map((i) => i.name),
      unsafeChanges: plan.unsafeChanges,
      schemaProblems: plan.schemaProblems,
    };
    if (Object.values(pending).some((list) => list.length > 0)) {
      throw new Error(`BetterAuth migrations pending: ${JSON.stringify(pending)}`);
    }
    const auth = betterAuth(options);
    const email = `client-${randomUUID().slice(0, 8)}@example.com`;
    const password = `pw-${randomUUID()}`;
    state.step = "sign-up";
    const signUp = await auth.api.signUpEmail({ body: { email, password, name: "Client Check" } });
    state.step = "sign-in";
    const signIn = await auth.api.signInEmail({ body: { email, password }, returnHeaders: true });
    state.step = "get-session";
    const session = await auth.api.getSession({ headers: new Headers({ cookie: cookieFrom(signIn.headers) }) });
    if (!session || session.user.email !== email || session.user.id !== signUp.user.id) {
      throw new Error("getSession did not return the signed-in user");
    }
    return { migrationsPending: 0, userId: session.user.id, sessionId: session.session.id };
  } finally {
    await pool.end();
  }
});
