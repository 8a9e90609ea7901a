"""`crudops logs`: the functions' log records, read, chosen and shown one way for
`logs` and `trace` alike (records.py reads them, format.py shows them, local_files.py
and cloudwatch.py fetch them, names.py finds the function, commands.py is the
command)."""
