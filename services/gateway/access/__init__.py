"""The access table: which roles may call which operation, and its rendering."""
