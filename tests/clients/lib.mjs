// Shared by the client checks: read required env, print one JSON result line, exit 0 on success.
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
export async function run(main) {
  const state = { step: "start" };
  try {
    const result = await main(state);
    console.log(JSON.stringify({ ok: true, ...result }));
    process.exit(0);
  } catch (err) {
    console.log(JSON.stringify({ ok: false, step: state.step, error: errorInfo(err) }));
    process.exit(1);
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
