-- Who takes which course, and how far each learner got in each microlesson.
--
-- user_id is BetterAuth's "user"."id" (text). The users live in the auth database, so there is
-- no foreign key to them; progress does reference the enrollment, so progress only exists for
-- enrolled learners and goes away with the enrollment.

CREATE TABLE enrollments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    course_id    uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'dropped')),
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- "a user's courses" is a prefix scan of this constraint's index.
    CONSTRAINT enrollments_user_course_key UNIQUE (user_id, course_id),
    CONSTRAINT enrollments_completed_has_time CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CONSTRAINT enrollments_completed_after_enrolled CHECK (completed_at IS NULL OR completed_at >= enrolled_at)
);
CREATE INDEX enrollments_course_idx ON enrollments (course_id, status);

CREATE TABLE progress (
    user_id        text NOT NULL,
    microlesson_id uuid NOT NULL,
    course_id      uuid NOT NULL,
    status         text NOT NULL DEFAULT 'not_started'
                   CHECK (status IN ('not_started', 'in_progress', 'completed')),
    score          numeric(5, 2) CHECK (score IS NULL OR score BETWEEN 0 AND 100),
    attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    started_at     timestamptz,
    completed_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, microlesson_id),
    CONSTRAINT progress_microlesson_fkey FOREIGN KEY (microlesson_id, course_id)
        REFERENCES microlessons (id, course_id) ON UPDATE CASCADE ON DELETE CASCADE,
    CONSTRAINT progress_enrollment_fkey FOREIGN KEY (user_id, course_id)
        REFERENCES enrollments (user_id, course_id) ON DELETE CASCADE,
    CONSTRAINT progress_started_has_time CHECK (status = 'not_started' OR started_at IS NOT NULL),
    CONSTRAINT progress_completed_has_time CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
    CONSTRAINT progress_completed_after_started
        CHECK (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at)
);
-- "a user's progress in a course" (and the enrollment foreign key's cascades).
CREATE INDEX progress_user_course_idx ON progress (user_id, course_id);
-- The microlesson foreign key's cascades (deleting or moving a microlesson).
CREATE INDEX progress_microlesson_idx ON progress (microlesson_id, course_id);

CREATE TRIGGER enrollments_updated_at BEFORE UPDATE ON enrollments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER progress_updated_at BEFORE UPDATE ON progress
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
