using PgVideoChat.Hosting;
using PgVideoChat.Hosting.Testing;

namespace PgVideoChat.LoadTests.Tests;

/// <summary>
/// The real app model, started once for the smoke tests through the AppHost's test entry point and disposed after
/// them; the runner targets it by URL (the mode of <c>--relay-url</c>) with the pids and connection string it needs.
/// </summary>
public sealed class AppModelFixture : IAsyncLifetime
{
    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app model has not started.");

    public TargetOptions Target { get; private set; } = new();

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>([], timeout.Token);
        _app = await builder.BuildAsync(timeout.Token);
        await _app.StartAsync(timeout.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("relay", timeout.Token);
        Target = new TargetOptions
        {
            RelayUrl = _app.GetEndpoint("relay"),
            ConnectionString = await _app.GetConnectionStringAsync("videochat", timeout.Token),
            RelayPid = _app.ResourceNotifications.TryGet("relay")?.ProcessId,
            PostgresPid = _app.ResourceNotifications.TryGet("postgres")?.ProcessId,
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
