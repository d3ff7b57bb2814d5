// Shared by the client checks: read required env, print one JSON result line, exit 0 on success.
import pg from "pg";

// Errors of idle pooled clients (the server or a relay closed an idle connection), reported in the result.
const idleErrors = [];

// A node-pg Pool as an app makes one: with the "error" listener node-pg requires (without it an idle
// client's error crashes the process); the pool drops that client and the next query gets a new one.
export function pool(connectionString, options = {}) {
  const made = new pg.Pool({ connectionString, ...options });
  made.on("error", (err) => idleErrors.push(errorInfo(err)));
  return made;
}
export function env(name) {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
}

// Redact anything that looks like a URL password or token from a message before printing it.
export function scrub(text) {
  return String(text)
    .replace(/(postgres(?:ql)?:\/\/[^:@/\s]+):[^@\s]+@/g, "$1:***@")
    .replace(/X-Amz-Signature=[0-9a-f]+/gi, "X-Amz-Signature=***");
}

export function errorInfo(err) {
  return { code: err?.code ?? err?.name ?? null, message: scrub(err?.message ?? err) };
}

// Run main(); print {"ok": true, ...result} or {"ok": false, "step": ..., "error": ...} as one line.
// An error thrown outside main's promise chain (a socket's, an unhandled rejection) is reported the same way.
export async function run(main) {
  const state = { step: "start" };
  const fail = (err) => {
    console.log(JSON.stringify({ ok: false, step: state.step, error: errorInfo(err), idleErrors }));
    process.exit(1);
  };
  process.on("uncaughtException", fail);
  process.on("unhandledRejection", fail);
  try {
    const result = await main(state);
    console.log(JSON.stringify({ ok: true, ...result, idleErrors }));
    process.exit(0);
  } catch (err) {
    fail(err);
  }
}

// Retry fn until it returns a truthy value or timeoutMs passes (replication lag on readers).
export async function until(fn, timeoutMs = 10000, pauseMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    }
    if (Date.now() >= deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

// Expect a PostgreSQL error; return its SQLSTATE, or throw if the action succeeded.
export async function refusedWith(action) {
  try {
    await action();
  } catch (err) {
    return err?.code ?? "no-sqlstate";
  }
  throw new Error("expected a refusal, the operation succeeded");
}
