using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PgVideoChat.Hosting.ApplicationModel;
using PgVideoChat.Hosting.Dashboard;
using PgVideoChat.Hosting.Orchestration;

namespace PgVideoChat.Hosting;

/// <summary>A built app model that runs (Aspire's <c>DistributedApplication</c>).</summary>
public sealed partial class DistributedApplication : IAsyncDisposable
{
    private readonly DistributedApplicationBuilder _builder;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Orchestrator _orchestrator;
    private readonly DashboardHost? _dashboard;
    private bool _stopped;

    internal DistributedApplication(DistributedApplicationBuilder builder, ILoggerFactory? loggerFactory = null)
    {
        _builder = builder;
        _loggerFactory = loggerFactory ?? (builder.Options.EchoResourceOutput
            ? LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information))
            : NullLoggerFactory.Instance);
        _logger = _loggerFactory.CreateLogger("PgVideoChat.Hosting");
        var configuration = builder.Configuration;
        _orchestrator = new Orchestrator(builder.Resources, builder.Options, configuration["OTEL_EXPORTER_OTLP_ENDPOINT"], ResourceNotifications, ResourceLogs, _loggerFactory);
        if (!builder.Options.DisableDashboard)
        {
            var url = configuration["Dashboard:Url"] ?? (builder.Options.RandomizePorts ? "http://127.0.0.1:0" : DashboardHost.DefaultUrl);
            _dashboard = new DashboardHost(url, this);
        }
    }

    /// <summary>Creates a builder; <paramref name="args"/> are configuration (<c>--Dashboard:Url=…</c>).</summary>
    public static IDistributedApplicationBuilder CreateBuilder(string[] args) =>
        new DistributedApplicationBuilder(new DistributedApplicationOptions { Args = args });

    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options) =>
        new DistributedApplicationBuilder(options);

    public ResourceNotificationService ResourceNotifications { get; } = new();

    public ResourceLoggerService ResourceLogs { get; } = new();

    public IReadOnlyList<Resource> Resources => _builder.Resources;

    public IConfiguration Configuration => _builder.Configuration;

    /// <summary>The dashboard's URL once started; null when it is disabled.</summary>
    public Uri? DashboardUrl => _dashboard?.Url;

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_dashboard is not null)
        {
            await _dashboard.StartAsync(cancellationToken);
            Log.DashboardListening(_logger, _dashboard.Url!);
        }

        await _orchestrator.StartAsync(cancellationToken);
    }

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _orchestrator.StopAsync();
        if (_dashboard is not null)
        {
            await _dashboard.DisposeAsync();
        }
    }

    /// <summary>Runs until Ctrl+C or SIGTERM, then stops everything in reverse order. Returns the process exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnSignal(PosixSignalContext context)
        {
            if (!shutdown.IsCancellationRequested)
            {
                // The first signal stops gracefully; a second one falls through to the default and ends us at once
                // (children then get their parent-death signal).
                context.Cancel = true;
                shutdown.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            await StartAsync(shutdown.Token);
            Log.Started(_logger);
            await Task.Delay(Timeout.Infinite, shutdown.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            Log.ShuttingDown(_logger);
            return 0;
        }
        catch (DistributedApplicationException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return 130;
        }
        finally
        {
            await StopAsync();
        }
    }

    public void Run() => Environment.ExitCode = RunAsync().GetAwaiter().GetResult();

    /// <summary>The connection string of a Postgres server or database resource.</summary>
    public Task<string?> GetConnectionStringAsync(string name, CancellationToken cancellationToken = default)
    {
        var resource = Resources.OfType<IResourceWithConnectionString>().FirstOrDefault(r => r.Name == name)
            ?? throw new ArgumentException($"There is no resource with a connection string named '{name}'.", nameof(name));
        return Task.FromResult(resource.ConnectionString);
    }

    /// <summary>The URL of a project's endpoint; <paramref name="resourceName"/> may name a replica (<c>relay-1</c>).</summary>
    public Uri GetEndpoint(string resourceName, string endpointName = "http")
    {
        foreach (var project in Resources.OfType<ProjectResource>())
        {
            for (var replica = 0; replica < project.Replicas; replica++)
            {
                if (project.InstanceName(replica) == resourceName || (replica == 0 && project.Name == resourceName))
                {
                    return new Uri(project.GetEndpointUrl(endpointName, replica) ?? throw new ArgumentException($"'{resourceName}' has no endpoint '{endpointName}'.", nameof(endpointName)));
                }
            }
        }

        throw new ArgumentException($"There is no project resource named '{resourceName}'.", nameof(resourceName));
    }

    public HttpClient CreateHttpClient(string resourceName, string endpointName = "http") =>
        new() { BaseAddress = GetEndpoint(resourceName, endpointName) };

    /// <summary>Stops and starts a resource again with the same ports and environment (the dashboard's Restart command).</summary>
    public Task RestartResourceAsync(string name, CancellationToken cancellationToken = default) =>
        _orchestrator.GetRunner(name).RestartAsync(cancellationToken);

    public Task StopResourceAsync(string name) => _orchestrator.GetRunner(name).StopAsync();

    public Task StartResourceAsync(string name, CancellationToken cancellationToken = default) => _orchestrator.GetRunner(name).StartAsync(cancellationToken);

    /// <summary>Ends a resource abruptly: SIGKILL for a project, immediate shutdown for Postgres.</summary>
    public Task KillResourceAsync(string name) => _orchestrator.GetRunner(name).KillAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _orchestrator.DisposeAsync();
        if (_loggerFactory is not NullLoggerFactory)
        {
            _loggerFactory.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Dashboard: {Url}")]
        public static partial void DashboardListening(ILogger logger, Uri url);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Distributed application started. Press Ctrl+C to shut down.")]
        public static partial void Started(ILogger logger);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Shutting down")]
        public static partial void ShuttingDown(ILogger logger);
    }
}
