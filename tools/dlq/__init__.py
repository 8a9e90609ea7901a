"""`crudops dlq`: see what waits in the dead-letter queues and send it back.

- discovery.py: which queues are DLQs, and where each one's messages go back to;
- peek.py: read messages without taking them (`show`, `export`);
- redrive.py: move messages back, never deleting one before its copy is sent.
"""
