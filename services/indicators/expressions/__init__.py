"""The safe expression language of indicator definitions (../shared/DOMAIN.md): parsed by a
real grammar into a tree of plain nodes, checked against the catalogue of measures, and
evaluated by walking the tree. Nothing here is ever `eval`ed, and nothing here reads a
database or calls a service: the tree, the names it may use and the values it is given are
all handed in."""
