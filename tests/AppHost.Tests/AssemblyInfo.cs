// Each test starts a whole app model (or two, or an AppHost process): one at a time on a 2-core machine, and the
// stale-directory sweep of one test must not race another test's assertions.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
