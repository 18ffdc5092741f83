// Every fixture runs the whole app model (Postgres, relay, web client) plus two or three Chromium processes on a
// 2-core machine: the browser tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
