-- People who sign in as themselves (src/people/): agents by their agent id, supervisors,
-- ops and admins by name. The password is a self-describing scrypt string
-- (scrypt$N$r$p$salt$hash), never the password itself. Sessions live in Redis, not here.
CREATE TABLE IF NOT EXISTS people (
  name                text PRIMARY KEY,
  display_name        text,
  role                text NOT NULL CHECK (role IN ('agent', 'supervisor', 'ops', 'admin')),
  -- The agent an agent's sessions act as; agents sign in with it.
  agent_id            text,
  -- The teams a supervisor oversees.
  teams               text[] NOT NULL DEFAULT '{}',
  password_hash       text NOT NULL,
  disabled            boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((role = 'agent') = (agent_id IS NOT NULL))
);

-- One account per agent id: signing in with the agent id must find one person.
CREATE UNIQUE INDEX IF NOT EXISTS people_agent_id ON people (agent_id) WHERE agent_id IS NOT NULL;
