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
            var instances = resource switch
            {
                PostgresServerResource server => [new PostgresServerRunner(server, _context)],
                PostgresDatabaseResource database => [new DatabaseRunner(database, _context)],
                ProjectResource project => Enumerable.Range(0, project.Replicas).Select(i => (ResourceRunner)new ProjectRunner(project, i, _context, environment, _http)).ToList(),
                _ => throw new NotSupportedException($"No runner for resources of type {resource.GetType().Name}."),
            };
            foreach (var runner in instances)
            {
                _runners[runner.Name] = runner;
                notifications.Publish(new ResourceSnapshot
                {
                    Name = runner.Name,
                    Type = resource.Type,
                    WaitsFor = [.. resource.WaitsFor.SelectMany(InstanceNames)],
                    Urls = resource is ProjectResource p ? p.Endpoints.ToDictionary(e => e.Name, e => e.UrlOf(((ProjectRunner)runner).Replica)) : new Dictionary<string, string>(),
                });
            }
        }
    }

    /// <summary>A resource's runnable instances: itself, or each of its replicas.</summary>
    private static IEnumerable<string> InstanceNames(Resource resource) =>
        resource is ProjectResource project ? project.InstanceNames : [resource.Name];

    private void AllocatePorts(bool randomize)
    {
        var taken = new HashSet<int>();
        foreach (var endpoint in _resources.OfType<ProjectResource>().SelectMany(p => p.Endpoints))
        {
            endpoint.AllocatedPorts.Clear();
            var replicas = _resources.OfType<ProjectResource>().First(p => p.Endpoints.Contains(endpoint)).Replicas;
            for (var replica = 0; replica < replicas; replica++)
            {
                int port;
                do
                {
                    port = endpoint.Port is { } fixedPort && !randomize ? fixedPort : PortAllocator.GetFreePort();
                }
                while (!taken.Add(port) && endpoint.Port is null);
                endpoint.AllocatedPorts.Add(port);
            }
        }
    }

    public ResourceRunner GetRunner(string name) =>
        _runners.TryGetValue(name, out var runner) ? runner : throw new ArgumentException($"There is no resource named '{name}'.", nameof(name));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = _runners.Values.Select(runner => StartWhenReadyAsync(runner, failed.Token)).ToList();

        try
        {
            await WhenAllOrFirstFailure(tasks, failed);
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

    private async Task StartWhenReadyAsync(ResourceRunner runner, CancellationToken cancellationToken)
    {
        // Let every resource's task be registered before any awaits another.
        await Task.Yield();
        var resource = runner.Resource;
        var dependencies = resource.WaitsFor.Concat(resource.Parent is { } parent ? [parent] : [])
            .SelectMany(InstanceNames).Where(_runners.ContainsKey).Distinct().ToList();
        if (dependencies.Count > 0)
        {
            _context.Notifications.Update(runner.Name, s => s with { State = ResourceStates.Waiting });
            foreach (var dependency in dependencies)
            {
                try
                {
                    await _context.Notifications.WaitForResourceHealthyAsync(dependency, cancellationToken);
                }
                catch (DistributedApplicationException ex)
                {
                    _context.Notifications.Update(runner.Name, s => s with { State = ResourceStates.FailedToStart, Message = $"dependency {dependency} failed" });
                    throw new DistributedApplicationException($"{runner.Name} did not start because {ex.Message}", ex);
                }
            }
        }

        await runner.StartAsync(cancellationToken);
        lock (_startedGate)
        {
            _started.Add(runner);
        }

        var snapshot = _context.Notifications.TryGet(runner.Name)!;
        var where = snapshot.Urls.Count > 0 ? string.Join(", ", snapshot.Urls.Values) : snapshot.ConnectionString ?? "-";
        Log.ResourceStarted(_logger, runner.Name, snapshot.State, where);
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
            Log.ResourceStopping(_logger, runner.Name);
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
