using Microsoft.Extensions.Logging;
using PgVideoChat.Hosting.ApplicationModel;
using PgVideoChat.Hosting.Processes;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>
/// Starts the resources of an app model in dependency order (each waits for its <c>WaitFor</c> dependencies and its
/// parent to be healthy) and stops them in reverse order. A failure to start stops everything already started.
/// </summary>
internal sealed partial class Orchestrator : IAsyncDisposable
{
    private readonly IReadOnlyList<Resource> _resources;
    private readonly Dictionary<string, ResourceRunner> _runners = [];
    private readonly OrchestratorContext _context;
    private readonly HttpClient _http = new();
    private readonly ILogger _logger;
    private readonly List<ResourceRunner> _started = [];
    private readonly Lock _startedGate = new();

    public Orchestrator(IReadOnlyList<Resource> resources, DistributedApplicationOptions options, string? otlpEndpoint, ResourceNotificationService notifications, ResourceLoggerService logs, ILoggerFactory loggerFactory)
    {
        _resources = resources;
        _logger = loggerFactory.CreateLogger("PgVideoChat.Hosting.Orchestrator");
        var runnable = resources.Where(r => r is not ParameterResource).ToList();
        _context = new OrchestratorContext(
            notifications,
            logs,
            new ProcessSpawner(),
            options.EchoResourceOutput ? new ConsoleEcho(runnable.Select(r => r.Name)) : null,
            loggerFactory);
        AllocatePorts(options.RandomizePorts);

        var environment = new EnvironmentBuilder(otlpEndpoint);
        foreach (var resource in runnable)
        {
            _runners[resource.Name] = resource switch
            {
                PostgresServerResource server => new PostgresServerRunner(server, _context),
                PostgresDatabaseResource database => new DatabaseRunner(database, _context),
                ProjectResource project => new ProjectRunner(project, _context, environment, _http),
                _ => throw new NotSupportedException($"No runner for resources of type {resource.GetType().Name}."),
            };
            notifications.Publish(new ResourceSnapshot
            {
                Name = resource.Name,
                Type = resource.Type,
                WaitsFor = [.. resource.WaitsFor.Select(r => r.Name)],
                Urls = resource is ProjectResource p ? p.Endpoints.ToDictionary(e => e.Name, e => e.Url) : new Dictionary<string, string>(),
            });
        }
    }

    private void AllocatePorts(bool randomize)
    {
        var taken = new HashSet<int>();
        foreach (var endpoint in _resources.OfType<ProjectResource>().SelectMany(p => p.Endpoints))
        {
            int port;
            do
            {
                port = endpoint.Port is { } fixedPort && !randomize ? fixedPort : PortAllocator.GetFreePort();
            }
            while (!taken.Add(port) && endpoint.Port is null);
            endpoint.AllocatedPort = port;
        }
    }

    public ResourceRunner GetRunner(string name) =>
        _runners.TryGetValue(name, out var runner) ? runner : throw new ArgumentException($"There is no resource named '{name}'.", nameof(name));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = new Dictionary<Resource, Task>();
        foreach (var resource in _runners.Values.Select(r => r.Resource))
        {
            tasks[resource] = StartWhenReadyAsync(resource, tasks, failed.Token);
        }

        try
        {
            await WhenAllOrFirstFailure(tasks.Values, failed);
        }
        catch
        {
            await StopAsync();
            throw;
        }
    }

    private static async Task WhenAllOrFirstFailure(IEnumerable<Task> tasks, CancellationTokenSource failed)
    {
        var pending = tasks.ToList();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending);
            pending.Remove(done);
            if (done.IsFaulted || done.IsCanceled)
            {
                await failed.CancelAsync();
                await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
                await done;
            }
        }
    }

    private async Task StartWhenReadyAsync(Resource resource, Dictionary<Resource, Task> tasks, CancellationToken cancellationToken)
    {
        // Let every resource's task be registered before any awaits another.
        await Task.Yield();
        var runner = _runners[resource.Name];
        var dependencies = resource.WaitsFor.Concat(resource.Parent is { } parent ? [parent] : []).Where(d => _runners.ContainsKey(d.Name)).Distinct().ToList();
        if (dependencies.Count > 0)
        {
            _context.Notifications.Update(resource.Name, s => s with { State = ResourceStates.Waiting });
            foreach (var dependency in dependencies)
            {
                try
                {
                    await _context.Notifications.WaitForResourceHealthyAsync(dependency.Name, cancellationToken);
                }
                catch (DistributedApplicationException ex)
                {
                    _context.Notifications.Update(resource.Name, s => s with { State = ResourceStates.FailedToStart, Message = $"dependency {dependency.Name} failed" });
                    throw new DistributedApplicationException($"{resource.Name} did not start because {ex.Message}", ex);
                }
            }
        }

        await runner.StartAsync(cancellationToken);
        lock (_startedGate)
        {
            _started.Add(runner);
        }

        var snapshot = _context.Notifications.TryGet(resource.Name)!;
        var where = snapshot.Urls.Count > 0 ? string.Join(", ", snapshot.Urls.Values) : snapshot.ConnectionString ?? "-";
        Log.ResourceStarted(_logger, resource.Name, snapshot.State, where);
    }

    public async Task StopAsync()
    {
        List<ResourceRunner> started;
        lock (_startedGate)
        {
            started = [.. _started];
            _started.Clear();
        }

        started.Reverse();
        foreach (var runner in started)
        {
            Log.ResourceStopping(_logger, runner.Resource.Name);
            if (runner is PostgresServerRunner postgres)
            {
                await postgres.DisposeAsync();
            }
            else
            {
                await runner.StopAsync();
            }
        }

        // Servers that failed before they were recorded as started still own throwaway data.
        foreach (var postgres in _runners.Values.OfType<PostgresServerRunner>().Where(r => !started.Contains(r)))
        {
            await postgres.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _context.Spawner.Dispose();
        _http.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Resource} is {State}: {Location}")]
        public static partial void ResourceStarted(ILogger logger, string resource, string state, string location);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Stopping {Resource}")]
        public static partial void ResourceStopping(ILogger logger, string resource);
    }
}
