DROP TABLE IF EXISTS document_chunk_embeddings;
DROP TABLE IF EXISTS document_chunks;
DROP TABLE IF EXISTS document_conversations;
DROP TABLE IF EXISTS documents;
DROP TABLE IF EXISTS user_profiles;
-- pgvector goes only if the up migration created it (it is database-wide; something else may use it).
DO $$
BEGIN
    IF obj_description((SELECT oid FROM pg_extension WHERE extname = 'vector'), 'pg_extension')
       = 'created by insurance-navigator migration documents' THEN
        DROP EXTENSION vector;
    END IF;
END
$$;
