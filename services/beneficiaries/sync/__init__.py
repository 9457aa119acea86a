"""Field-app sync: a batch of offline changes in, the registry's changes out."""
