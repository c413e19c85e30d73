//! What a licensed server links: load and verify an activation file, reload it, query it.
