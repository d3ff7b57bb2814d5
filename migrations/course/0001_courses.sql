-- The course catalogue: courses, their lessons in order, and each lesson's microlessons in order.
--
-- Ordering: (course_id, position) and (lesson_id, position) are unique. The constraints are
-- DEFERRABLE, so an app can reorder in one transaction (SET CONSTRAINTS ... DEFERRED, then
-- swap positions) without tripping over itself; they still serve the "in order" index scans.
--
-- microlessons carry their course_id (kept right by a composite foreign key that cascades on
-- update), so progress can be keyed by course without a join, and it can never disagree.
-- updated_at is maintained by one trigger function, set_updated_at(), on every table.

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE courses (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT courses_published_has_time CHECK (status <> 'published' OR published_at IS NOT NULL)
);
CREATE INDEX courses_status_idx ON courses (status, published_at DESC);

CREATE TABLE lessons (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id  uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position   integer NOT NULL CHECK (position >= 0),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    summary    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- "a course's lessons in order" is an index scan of this constraint's index.
    CONSTRAINT lessons_course_position_key UNIQUE (course_id, position) DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT lessons_id_course_key UNIQUE (id, course_id)
);

CREATE TABLE microlessons (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    lesson_id        uuid NOT NULL,
    course_id        uuid NOT NULL,
    position         integer NOT NULL CHECK (position >= 0),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind             text NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'video', 'quiz', 'exercise')),
    content          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(content) = 'object'),
    duration_seconds integer CHECK (duration_seconds IS NULL OR duration_seconds >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT microlessons_lesson_fkey FOREIGN KEY (lesson_id, course_id)
        REFERENCES lessons (id, course_id) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT microlessons_lesson_position_key UNIQUE (lesson_id, position) DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT microlessons_id_course_key UNIQUE (id, course_id)
);
CREATE INDEX microlessons_course_idx ON microlessons (course_id);

CREATE TRIGGER courses_updated_at BEFORE UPDATE ON courses
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER lessons_updated_at BEFORE UPDATE ON lessons
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER microlessons_updated_at BEFORE UPDATE ON microlessons
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
