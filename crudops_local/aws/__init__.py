"""Where AWS is for the local stack: the one endpoint type every part calls AWS through
(`endpoint`: URLs, region, credentials, cached clients, a worker's environment), the
choice of target (`targets`: embedded, another emulator, a real account), and the
embedded moto server (`server`) with its patches (`moto_patches`, `sqs_depth_index`)."""
