// Each fixture runs a whole app model (Postgres, relay, web client) on a 2-core machine: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
