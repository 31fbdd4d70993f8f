-- Accounts. Email is unique case-insensitively; the hash is argon2id (passlib format).
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    password_hash text NOT NULL,
    full_name     text CHECK (full_name IS NULL OR length(full_name) <= 200),
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
