// Kysely on node-pg: write the course schema's tables on COURSE_DB_URL, read them back on
// COURSE_DB_READ_URL (retrying while the reader catches up), and check a write there is refused.
import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import { env, pool, refusedWith, run, until } from "./lib.mjs";

function db(url) {
  return new Kysely({ dialect: new PostgresDialect({ pool: pool(url, { max: 2 }) }) });
}

await run(async (state) => {
  const writer = db(env("COURSE_DB_URL"));
  const reader = db(env("COURSE_DB_READ_URL"));
  try {
    const tag = randomUUID().slice(0, 8);
    const userId = `user-${tag}`;
    state.step = "write";
    const ids = await writer.transaction().execute(async (trx) => {
      const course = await trx
        .insertInto("courses")
        .values({ slug: `course-${tag}`, title: "Client check", status: "published", published_at: new Date() })
        .returning("id")
        .executeTakeFirstOrThrow();
      const lesson = await trx
        .insertInto("lessons")
        .values({ course_id: course.id, position: 0, title: "Lesson one" })
        .returning("id")
        .executeTakeFirstOrThrow();
      const micro = await trx
        .insertInto("microlessons")
        .values({ lesson_id: lesson.id, course_id: course.id, position: 0, title: "Micro one", kind: "quiz",
                  content: JSON.stringify({ q: "2+2" }), duration_seconds: 60 })
        .returning("id")
        .executeTakeFirstOrThrow();
      await trx.insertInto("enrollments").values({ user_id: userId, course_id: course.id }).execute();
      await trx
        .insertInto("progress")
        .values({ user_id: userId, microlesson_id: micro.id, course_id: course.id, status: "in_progress",
                  attempts: 1, started_at: new Date() })
        .execute();
      return { course: course.id, lesson: lesson.id, micro: micro.id };
    });
    state.step = "read";
    const row = await until(
      () =>
        reader
          .selectFrom("progress")
          .innerJoin("microlessons", "microlessons.id", "progress.microlesson_id")
          .innerJoin("lessons", "lessons.id", "microlessons.lesson_id")
          .innerJoin("courses", "courses.id", "lessons.course_id")
          .innerJoin("enrollments", (j) =>
            j.onRef("enrollments.user_id", "=", "progress.user_id").onRef("enrollments.course_id", "=", "courses.id"))
          .select(["courses.slug", "lessons.title as lesson", "microlessons.kind", "progress.status", "enrollments.status as enrollment"])
          .where("progress.user_id", "=", userId)
          .executeTakeFirst(),
      15000,
    );
    if (!row) throw new Error("rows written on COURSE_DB_URL never appeared on COURSE_DB_READ_URL");
    if (row.slug !== `course-${tag}` || row.kind !== "quiz" || row.status !== "in_progress") {
      throw new Error(`read back unexpected row ${JSON.stringify(row)}`);
    }
    state.step = "write-on-reader";
    const sqlstate = await refusedWith(() =>
      reader.insertInto("enrollments").values({ user_id: `${userId}-r`, course_id: ids.course }).execute());
    return { wrote: 5, read: row, readOnlyWriteSqlstate: sqlstate };
  } finally {
    await writer.destroy();
    await reader.destroy();
  }
});
