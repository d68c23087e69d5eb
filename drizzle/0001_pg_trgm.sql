-- Trigram indexes make substring search (Korean included) fast: characters_search_idx.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
