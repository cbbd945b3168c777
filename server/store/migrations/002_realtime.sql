-- Job progress: the current state of each job. Terminal states (completed, failed,
-- cancelled) are final. `version` grows with every update: it orders the job's events on the bus.
CREATE TABLE jobs (
  id                    text PRIMARY KEY,
  user_id               text NOT NULL,
  kind                  text NOT NULL,
  title                 text,
  status                text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
  progress              double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  current_step          text,
  message               text,
  estimated_completion  timestamptz,
  result                jsonb,
  error                 jsonb,
  version               integer NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  completed_at          timestamptz
);
CREATE INDEX jobs_user ON jobs (user_id, created_at DESC);
CREATE INDEX jobs_active ON jobs (status) WHERE status IN ('queued', 'processing');

-- Notifications: a row per recipient for user notifications (user_id set, with its
-- read state), one row per broadcast for channel notifications (channel set: `general` or a custom channel).
-- Read user notifications and broadcasts older than NOTIFICATION_RETENTION_HOURS are purged.
CREATE TABLE notifications (
  id                 uuid PRIMARY KEY,
  user_id            text,
  channel            text,
  notification_type  text NOT NULL CHECK (notification_type IN ('info', 'success', 'warning', 'error', 'alert')),
  title              text NOT NULL,
  message            text NOT NULL,
  data               jsonb,
  priority           text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  category           text,
  action_url         text,
  action_text        text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  read_at            timestamptz,
  CHECK ((user_id IS NULL) <> (channel IS NULL))
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX notifications_unread ON notifications (user_id, created_at) WHERE user_id IS NOT NULL AND read_at IS NULL;
CREATE INDEX notifications_created ON notifications (created_at);
