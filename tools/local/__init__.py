"""`crudops local up|down`: the CLI side of the local stack.

The stack itself, the emulation of the AWS services it needs, is the top-level package
`crudops_local/`, which imports nothing from `tools/`; this package starts and stops it
for a terminal (`up`), removes what killed runs left (`down`) and prints both (`output`).
"""
