"""Search: tokenizing, BM25 and embedding retrieval over stored notes."""
