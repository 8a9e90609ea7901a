"""Where AWS is for the local stack: the embedded moto server (`server`) and its
patches (`moto_patches`, `sqs_depth_index`), the choice of target (`targets`: embedded,
another emulator, a real account) and the endpoint the gateway signs for (`target`)."""
