"""CloudFormation, as the local stack plays it: the template read and resolved
(`template`), its resources created in an AWS endpoint (`provision`) by one provider
per type (`providers/`), and what a run created on an endpoint it does not own listed
and removed (`teardown`)."""
