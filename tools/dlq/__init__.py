"""`crudops dlq`: see what waits in the dead-letter queues and send it back.

- addressing.py: which queue a name means (URL, ARN, name, short name), with or
  without a stack; discovery.py: which queues are DLQs and where each one's go back to;
- selection.py: which messages a command takes (--filter, --request-id, --older-than,
  --max); messages.py: reading messages without taking them, receiving, releasing
  and deleting them;
- show.py, failures.py: `show`, and the error that parked each message;
- record.py, dump_file.py: the one JSON Lines record of a message, written durably;
- export.py, replay.py, delete.py: `export` (and `--delete`), `replay`, `delete`,
  `purge`, each keeping a copy on disk before anything is deleted;
- redrive.py: moving them back, never deleting one before its copy is sent, with its
  journal (journal.py), visibility keeper (visibility.py) and dry run (preview.py);
  redrive_command.py runs the command;
- native.py: SQS's own message move task (`tasks`, `cancel`, `redrive --native`);
- confirm.py, progress.py, output.py: asking first, the progress bar, what is printed.
"""
