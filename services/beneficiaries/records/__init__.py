"""Households and people as the registry stores and exchanges them: their API shapes, the one
mapping between those and the table rows, the SQL-built documents, the queries and the writes
every household change is made of. The base the domain packages build on."""
