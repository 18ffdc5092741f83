using Aspire.Hosting;
using Aspire.Hosting.Testing;
using PgVideoChat.TestSupport;

namespace PgVideoChat.LoadTests.Tests;

/// <summary>
/// The real app model, started once for the smoke tests through the AppHost's test entry point (Aspire.Hosting.Testing)
/// and disposed after them; the runner targets it by URL (the mode of <c>--relay-url</c>) with the pids and connection
/// string it needs.
/// </summary>
public sealed class AppModelFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app model has not started.");

    public TargetOptions Target { get; private set; } = new();

    public async Task InitializeAsync()
    {
        _app = await AppModel.StartAsync<Projects.AppHost>([], ["relay"]);
        Target = new TargetOptions
        {
            RelayUrl = _app.GetEndpoint("relay"),
            ConnectionString = await _app.GetConnectionStringAsync("videochat"),
            // The relay's and the postmaster's own processes, not the launchers DCP started them with.
            RelayPid = _app.GetProcessId("relay"),
            PostgresPid = _app.GetProcessId("postgres"),
        };
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
