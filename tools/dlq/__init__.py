"""`crudops dlq`: see what waits in the dead-letter queues and send it back.

- addressing.py: which queue a name means (URL, ARN, name, short name), with or
  without a stack; discovery.py: which queues are DLQs and where each one's go back to;
- selection.py: which messages a command takes (--filter, --request-id, --older-than,
  --max); messages.py: reading messages without taking them (`show`, `export`);
- redrive.py: moving them back, never deleting one before its copy is sent, with its
  journal (journal.py), visibility keeper (visibility.py) and dry run (preview.py);
  redrive_command.py runs the command, output.py prints, confirm.py asks.
"""
