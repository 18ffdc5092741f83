using Microsoft.Extensions.DependencyInjection;

namespace PgVideoChat.LocalPostgres.Tests.Support;

/// <summary>
/// Keeps every log line of one resource while the app runs, from its first (the service keeps a backlog). Start it
/// after <c>StartAsync</c>: a DCP executable's log is kept under the name DCP gave it (pg-abcd1234), which the
/// resource knows only once the app has started; before that the watch asks for "pg" and hears nothing.
/// </summary>
internal sealed class ResourceLogRecorder : IAsyncDisposable
{
    private readonly List<string> _lines = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    private ResourceLogRecorder(DistributedApplication app, IResource resource)
    {
        var loggers = app.Services.GetRequiredService<ResourceLoggerService>();
        _watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in loggers.WatchAsync(resource).WithCancellation(_stop.Token))
                {
                    lock (_lines)
                    {
                        _lines.AddRange(batch.Select(l => l.Content));
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        });
    }

    public static ResourceLogRecorder Start(DistributedApplication app, IResource resource) => new(app, resource);

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public async Task<string> WaitForLineAsync(string fragment, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"No log line with '{fragment}'. The lines so far:{Environment.NewLine}{string.Join(Environment.NewLine, Lines)}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _watching;
        _stop.Dispose();
    }
}
