"""After training: the promotion gate's pointer to the published run, and retention of old runs."""
