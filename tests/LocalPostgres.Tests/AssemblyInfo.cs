// Each test runs real Postgres servers and DCP on a 2-core machine and measures startup and stop times: one at a time,
// so that the figures are the integration's and not the neighbours', and no two servers race for a data directory.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

// The tests look at processes through /proc and at owners through stat: Linux, where these machines and CI run.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
