"""`crudops dlq`: see what waits in the dead-letter queues and send it back.

- discovery.py: which queues are DLQs, and where each one's messages go back to;
- messages.py: reading messages without taking them (`show`), receiving, releasing
  and deleting them;
- show.py, failures.py: `show`, and the error that parked each message;
- record.py, dump_file.py: the one JSON Lines record of a message, written durably;
- export.py, replay.py, delete.py: `export` (and `--delete`), `replay`, `delete`,
  `purge`, each keeping a copy on disk before anything is deleted;
- redrive.py: move messages back, never deleting one before its copy is sent;
- native.py: SQS's own message move task (`tasks`, `cancel`);
- confirm.py, progress.py, output.py: asking first, the progress bar, what is printed.
"""
