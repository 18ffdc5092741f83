// Each test starts a whole app model (or two): run them one at a time on a 2-core machine, and keep the
// stale-directory sweep of one test from racing another test's assertions.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
