using Aspire.Hosting;
using PgVideoChat.TestSupport;

namespace PgVideoChat.AppHost.Tests;

/// <summary>
/// The AppHost's default app model (one relay), shared by the tests that only look at it or put back what they
/// change (a restart): starting one costs 10–30 s.
/// </summary>
public sealed class SingleRelayFixture : IAsyncLifetime
{
    public static readonly string[] AllResources = ["postgres", "videochat", "relay", "webclient"];

    private DistributedApplication? _app;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The app model has not started.");

    public async Task InitializeAsync() => _app = await AppModel.StartAsync<Projects.AppHost>([], AllResources);

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SingleRelayAppModel : ICollectionFixture<SingleRelayFixture>
{
    public const string Name = "Default app model";
}
