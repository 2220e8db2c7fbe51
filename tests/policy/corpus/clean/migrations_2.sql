CREATE TABLE users (
  id UUID PRIMARY KEY,
  email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  api_token_hash CHAR(64)
);
CREATE INDEX users_email ON users (email);
