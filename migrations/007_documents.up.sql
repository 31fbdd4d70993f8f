-- The person's own plan and letters: a profile, uploaded documents (the file's bytes encrypted
-- at rest with AES-GCM by the service, extracted text and facts), their links to conversations,
-- and text chunks with page numbers for full-text search. Every table carries user_id and has
-- row-level security keyed on the transaction-local app.user_id (no effect while the service
-- connects as the tables' owner; it protects them once it connects as a role without BYPASSRLS).
CREATE TABLE user_profiles (
    user_id            uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    plan_type          text CHECK (plan_type IN ('employer', 'marketplace', 'medicaid', 'medicare',
                                                 'medicare_advantage', 'chip', 'tricare', 'va', 'none')),
    insurer            text CHECK (length(insurer) <= 200),
    plan_name          text CHECK (length(plan_name) <= 200),
    state              text CHECK (state ~ '^[A-Z]{2}$'),
    plan_through       text CHECK (length(plan_through) <= 200),
    renewal_month      smallint CHECK (renewal_month BETWEEN 1 AND 12),
    preferred_language text CHECK (preferred_language ~ '^[a-z]{2,3}(-[A-Za-z]{2,4})?$'),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('summary_of_benefits', 'denial_letter', 'explanation_of_benefits',
                                               'decision_letter', 'policy', 'bill', 'other')),
    filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    media_type   text NOT NULL CHECK (media_type IN ('application/pdf', 'text/plain')),
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    -- HMAC-SHA256 of the file under a key derived from the encryption key: the same file twice
    -- for one user is stored once, without a plain hash that would confirm a guessed file.
    digest       bytea NOT NULL,
    -- nonce || AES-GCM ciphertext || tag; key_id names the key (a fingerprint, not the key).
    content      bytea NOT NULL,
    key_id       text NOT NULL,
    pages        integer NOT NULL CHECK (pages >= 0),
    text         text NOT NULL,
    facts        jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Uploaded without a conversation (for every conversation): not deleted with a conversation.
    standalone   boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, digest)
);
CREATE INDEX documents_user_created_idx ON documents (user_id, created_at DESC, id DESC);

CREATE TABLE document_conversations (
    document_id     uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, conversation_id)
);
CREATE INDEX document_conversations_conversation_idx ON document_conversations (conversation_id, user_id);

CREATE TABLE document_chunks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    page        integer NOT NULL CHECK (page >= 1),
    body        text NOT NULL,
    search      tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED,
    UNIQUE (document_id, ordinal)
);
CREATE INDEX document_chunks_search_idx ON document_chunks USING gin (search);
CREATE INDEX document_chunks_user_idx ON document_chunks (user_id);

ALTER TABLE user_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE document_chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_profiles_owner ON user_profiles
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY documents_owner ON documents
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY document_conversations_owner ON document_conversations
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY document_chunks_owner ON document_chunks
    USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid);

-- Embeddings of the chunks, only where the server has pgvector and this role may create it:
-- elsewhere the table does not exist and documents are searched by full text alone. The vector
-- has no fixed dimension (any embedding model); `model` keeps vectors of different models apart.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        RAISE NOTICE 'pgvector is not installed on this server: documents use full-text search only';
        RETURN;
    END IF;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
            CREATE EXTENSION vector;
            -- Marked, so the down migration removes it only if this migration created it.
            COMMENT ON EXTENSION vector IS 'created by insurance-navigator migration documents';
        END IF;
    EXCEPTION WHEN insufficient_privilege OR feature_not_supported OR undefined_file THEN
        RAISE NOTICE 'pgvector is installed but cannot be created here: documents use full-text search only';
        RETURN;
    END;
    EXECUTE $sql$
        CREATE TABLE document_chunk_embeddings (
            chunk_id  bigint PRIMARY KEY REFERENCES document_chunks (id) ON DELETE CASCADE,
            user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            model     text NOT NULL,
            embedding vector NOT NULL
        )
    $sql$;
    EXECUTE 'CREATE INDEX document_chunk_embeddings_user_idx ON document_chunk_embeddings (user_id, model)';
    EXECUTE 'ALTER TABLE document_chunk_embeddings ENABLE ROW LEVEL SECURITY';
    EXECUTE $sql$
        CREATE POLICY document_chunk_embeddings_owner ON document_chunk_embeddings
            USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid)
    $sql$;
END
$$;
