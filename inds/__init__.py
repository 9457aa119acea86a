"""The `inds` command: runs the whole stack, migrations and tools from one distribution."""
