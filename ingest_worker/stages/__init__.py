"""Pipeline stages; each reads the original (or earlier results) and writes fixed keys."""
