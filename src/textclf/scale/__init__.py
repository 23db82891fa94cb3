"""Scale: scoring a whole archive of shards with a shipped model folder on Ray Data, on one
machine or a cluster, each shard written once under a name derived from its input."""
