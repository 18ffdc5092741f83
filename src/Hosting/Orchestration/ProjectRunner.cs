using System.Runtime.InteropServices;
using PgVideoChat.Hosting.ApplicationModel;
using PgVideoChat.Hosting.Processes;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>Runs a project's build output with <c>dotnet</c>, injects the Aspire environment, polls <c>/health</c>.</summary>
internal sealed class ProjectRunner(ProjectResource resource, int replica, OrchestratorContext context, EnvironmentBuilder environment, HttpClient http)
    : ResourceRunner(resource, context, resource.InstanceName(replica)), IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private readonly ProjectResource _resource = resource;

    public int Replica { get; } = replica;
    private ChildProcess? _process;
    private CancellationTokenSource? _healthPolling;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        SetState(ResourceStates.Starting);
        if (!File.Exists(_resource.Metadata.TargetPath))
        {
            Fail($"{_resource.Metadata.TargetPath} does not exist: build the solution first (dotnet build), or run the AppHost with dotnet run, which builds it.");
        }

        foreach (var endpoint in _resource.Endpoints.Where(e => !PortAllocator.IsFree(e.AllocatedPorts[Replica])))
        {
            Fail($"port {endpoint.AllocatedPorts[Replica]} of endpoint '{endpoint.Name}' is in use: stop what listens there, or change its port in the AppHost (WithHttpEndpoint).");
        }

        var env = environment.Build(_resource, Replica);
        _process = await ChildProcess.StartAsync(Context.Spawner, new ChildProcessOptions
        {
            FileName = DotnetMuxer,
            Arguments = [_resource.Metadata.TargetPath, .. _resource.Arguments],
            WorkingDirectory = Path.GetDirectoryName(_resource.Metadata.ProjectPath),
            Environment = env,
            StopSignal = Signals.SIGTERM,
            OnOutput = (line, isError) => Log(line, isError),
        });

        var process = _process;
        Context.Notifications.Update(Name, s => s with
        {
            State = ResourceStates.Running,
            Health = HealthStatus.Unknown,
            ProcessId = process.Id,
            StartTime = process.StartTime,
            StopTime = null,
            ExitCode = null,
            Message = null,
            Environment = env.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!),
            Urls = _resource.Endpoints.ToDictionary(e => e.Name, e => e.UrlOf(Replica)),
        });

        _healthPolling = new CancellationTokenSource();
        _ = PollHealthAsync(process, _healthPolling.Token);
        _ = WatchExitAsync(process);
    }

    private void Fail(string message)
    {
        var text = $"{Name}: {message}";
        Context.Notifications.Update(Name, s => s with { State = ResourceStates.FailedToStart, Message = text });
        throw new DistributedApplicationException(text);
    }

    private async Task WatchExitAsync(ChildProcess process)
    {
        var exitCode = await process.Exited;
        Context.Notifications.Update(Name, s => s.ProcessId != process.Id ? s : s with
        {
            State = s.State == ResourceStates.Stopping ? ResourceStates.Finished : ResourceStates.Exited,
            Health = HealthStatus.Unknown,
            ProcessId = null,
            ExitCode = exitCode,
            StopTime = DateTimeOffset.UtcNow,
            Message = s.State == ResourceStates.Stopping ? null : $"exited unexpectedly with code {exitCode}",
        });
    }

    private async Task PollHealthAsync(ChildProcess process, CancellationToken cancellationToken)
    {
        var url = _resource.Endpoints[0].UrlOf(Replica) + _resource.HealthCheckPath;
        var healthyOnce = false;
        while (!cancellationToken.IsCancellationRequested && !process.HasExited)
        {
            HealthStatus health;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                using var response = await http.GetAsync(url, timeout.Token);
                health = response.IsSuccessStatusCode ? HealthStatus.Healthy : HealthStatus.Unhealthy;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                health = healthyOnce ? HealthStatus.Unhealthy : HealthStatus.Unknown;
            }

            healthyOnce |= health == HealthStatus.Healthy;
            Context.Notifications.Update(Name, s => s.ProcessId != process.Id || s.Health == health || s.State != ResourceStates.Running ? s : s with { Health = health });
            try
            {
                await Task.Delay(healthyOnce ? TimeSpan.FromSeconds(2) : TimeSpan.FromMilliseconds(250), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override Task StopAsync() => StopAsync(signal: null);

    public override Task KillAsync() => StopAsync(Signals.SIGKILL);

    private async Task StopAsync(int? signal)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        if (_healthPolling is { } polling)
        {
            await polling.CancelAsync();
            polling.Dispose();
            _healthPolling = null;
        }

        if (signal != Signals.SIGKILL)
        {
            SetState(ResourceStates.Stopping);
        }

        await process.StopAsync(StopTimeout, signal);
        await process.DisposeAsync();
    }

    public void Dispose() => _healthPolling?.Dispose();

    /// <summary>The <c>dotnet</c> host of the runtime we run on, so children run on the same runtime.</summary>
    private static string DotnetMuxer
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
            {
                return hostPath;
            }

            // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
            var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
            var muxer = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
            return File.Exists(muxer) ? muxer : "dotnet";
        }
    }
}
