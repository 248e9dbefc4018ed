"""Storage behind one small interface, with an embedded SQLite and a MongoDB implementation."""
