-- Knowledge documents searched with PostgreSQL full-text search (ranked), and urgent-risk detections.
-- Shipped documents are upserted by `navigator kb load` / the orchestrator; operators add their own.
CREATE TABLE knowledge_documents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,99}$'),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    source     text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
    url        text,
    intents    text[] NOT NULL DEFAULT '{}',
    keywords   text NOT NULL DEFAULT '',
    deadline   text,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    origin     text NOT NULL DEFAULT 'operator' CHECK (origin IN ('shipped', 'operator')),
    checksum   text NOT NULL,
    search     tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', keywords), 'B') ||
        setweight(to_tsvector('english', body), 'C')
    ) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX knowledge_documents_search_idx ON knowledge_documents USING gin (search);

-- One row per (conversation, message, category): a replayed guard step does not insert twice.
-- conversation_id is the graph's thread id (text), like workflow_states; CLI threads have no conversation row.
CREATE TABLE risk_detections (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id text NOT NULL,
    user_id         uuid,
    message_id      text NOT NULL,
    category        text NOT NULL CHECK (category IN ('medical_emergency', 'self_harm', 'danger')),
    severity        text NOT NULL CHECK (severity IN ('urgent', 'elevated')),
    excerpt         text NOT NULL,
    detected_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, message_id, category)
);
CREATE INDEX risk_detections_detected_idx ON risk_detections (detected_at DESC);
CREATE INDEX risk_detections_user_idx ON risk_detections (user_id, detected_at DESC) WHERE user_id IS NOT NULL;
