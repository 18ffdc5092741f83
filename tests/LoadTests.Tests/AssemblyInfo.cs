// The smoke tests run a whole app model (Postgres, relay, web client) and load it on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
