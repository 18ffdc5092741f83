using Aspire.Hosting.ApplicationModel;

namespace PgVideoChat.TestSupport;

/// <summary>
/// Every line of every resource of one app model, kept in memory from before the first resource starts until the app
/// is disposed. Aspire streams a resource's log only to a watcher, asynchronously, and only from the moment it
/// watches; a failing assertion needs the lines at once and from the start, including a restarted resource's earlier
/// run (a restart keeps the resource's name, so both runs are one list).
/// </summary>
/// <remarks>
/// Registered with <see cref="ResourceLogCollectorExtensions.AddResourceLogCollector"/>, which starts the watchers in
/// <c>BeforeStartEvent</c>: after Aspire has named each resource's DCP instance (the names
/// <see cref="ResourceLoggerService.WatchAsync(IResource)"/> resolves) and before any process starts.
/// </remarks>
public sealed class ResourceLogCollector : IAsyncDisposable
{
    /// <summary>Lines kept per resource; older ones are dropped so that a long load run cannot grow the host without bound.</summary>
    public const int MaxLinesPerResource = 100_000;

    private readonly ResourceLoggerService _loggerService;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Queue<ResourceLogLine>> _lines = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Task> _watchers = [];
    private readonly CancellationTokenSource _stopping = new();

    internal ResourceLogCollector(ResourceLoggerService loggerService)
    {
        ArgumentNullException.ThrowIfNull(loggerService);
        _loggerService = loggerService;
    }

    /// <summary>The names of the resources that have written at least one line.</summary>
    public IReadOnlyList<string> Resources
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines.Where(kv => kv.Value.Count > 0).Select(kv => kv.Key)];
            }
        }
    }

    /// <summary>The lines a resource has written so far, oldest first; empty for an unknown or silent resource.</summary>
    public IReadOnlyList<ResourceLogLine> GetLines(string resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        lock (_gate)
        {
            return _lines.TryGetValue(resource, out var lines) ? [.. lines] : [];
        }
    }

    /// <summary>The last lines of a resource as one string, stderr lines marked, for a failure message.</summary>
    public string Tail(string resource, int maxLines = 40)
    {
        var lines = GetLines(resource);
        return lines.Count == 0
            ? $"({resource} wrote nothing)"
            : string.Join('\n', lines.TakeLast(maxLines).Select(l => (l.IsError ? "ERR " : "    ") + l.Content));
    }

    internal void WatchAll(DistributedApplicationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_gate)
        {
            // BeforeStartEvent fires once per app; a second call would only double every line.
            if (_watchers.Count > 0)
            {
                return;
            }

            foreach (var resource in model.Resources)
            {
                _lines[resource.Name] = new Queue<ResourceLogLine>();
                _watchers.Add(Task.Run(() => WatchAsync(resource, _stopping.Token)));
            }
        }
    }

    private async Task WatchAsync(IResource resource, CancellationToken cancellationToken)
    {
        try
        {
            // The IResource overload: the string one wants DCP's instance name (relay-abcdwxyz), not the model's.
            await foreach (var batch in _loggerService.WatchAsync(resource).WithCancellation(cancellationToken))
            {
                lock (_gate)
                {
                    var lines = _lines[resource.Name];
                    foreach (var line in batch)
                    {
                        lines.Enqueue(new ResourceLogLine(resource.Name, line.Content, line.IsErrorMessage));
                    }

                    while (lines.Count > MaxLinesPerResource)
                    {
                        lines.Dequeue();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: the app is going away.
        }
        catch (ObjectDisposedException)
        {
            // The logger service went first; what was collected stays readable.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        Task[] watchers;
        lock (_gate)
        {
            watchers = [.. _watchers];
        }

        await Task.WhenAll(watchers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }
}
