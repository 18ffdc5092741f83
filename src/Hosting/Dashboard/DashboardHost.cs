using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PgVideoChat.Hosting.Dashboard;

/// <summary>The AppHost's own HTTP endpoint: <c>/api/resources</c> and the dashboard UI, on loopback only.</summary>
internal sealed class DashboardHost(string url, DistributedApplication application) : IAsyncDisposable
{
    public const string DefaultUrl = "http://localhost:18888";

    private WebApplication? _app;

    public Uri? Url { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(url);
        if (!IsLoopback(uri.Host))
        {
            throw new DistributedApplicationException($"Dashboard:Url {url} is not a loopback address; the dashboard shows connection strings and logs, so it only listens on localhost.");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None)
            .AddFilter("Microsoft.AspNetCore.Server.Kestrel.Transport", LogLevel.Critical);
        builder.WebHost.UseUrls(url);
        builder.Services.AddSingleton(application);
        builder.Services.AddSingleton<ReplicationSlotSampler>();
        builder.Services.AddSingleton<PrometheusScraper>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, DashboardJsonContext.Default));
        _app = builder.Build();
        _app.MapDashboardApi();
        _app.MapDashboardUi();
        try
        {
            await _app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            throw new DistributedApplicationException($"The dashboard cannot listen on {url} ({ex.Message}): another AppHost may be running; stop it, or set Dashboard__Url (e.g. http://localhost:0 for any free port).", ex);
        }

        _app.Services.GetRequiredService<ReplicationSlotSampler>().Start();
        _app.Services.GetRequiredService<PrometheusScraper>().Start();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address.Replace("127.0.0.1", "localhost", StringComparison.Ordinal).Replace("[::]", "localhost", StringComparison.Ordinal));
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }
}
