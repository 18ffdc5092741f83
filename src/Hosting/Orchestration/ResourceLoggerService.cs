using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>One line of a resource's console output.</summary>
public sealed record LogLine(long LineNumber, DateTimeOffset Timestamp, string Content, bool IsError);

/// <summary>The console output of every resource: the last lines kept, and a live stream (Aspire's service of the same name).</summary>
public sealed class ResourceLoggerService
{
    public const int MaxLinesKept = 10_000;

    private readonly ConcurrentDictionary<string, ResourceLog> _logs = new();

    internal void Append(string resource, string content, bool isError) => Get(resource).Append(content, isError);

    public IReadOnlyList<LogLine> GetLines(string resource) => Get(resource).Snapshot();

    public IAsyncEnumerable<LogLine> WatchAsync(string resource, CancellationToken cancellationToken = default) =>
        Get(resource).WatchAsync(cancellationToken);

    private ResourceLog Get(string resource) => _logs.GetOrAdd(resource, _ => new ResourceLog());

    private sealed class ResourceLog
    {
        private readonly Queue<LogLine> _lines = new();
        private readonly List<Channel<LogLine>> _watchers = [];
        private readonly Lock _gate = new();
        private long _lineNumber;

        public void Append(string content, bool isError)
        {
            lock (_gate)
            {
                var line = new LogLine(++_lineNumber, DateTimeOffset.UtcNow, content, isError);
                _lines.Enqueue(line);
                if (_lines.Count > MaxLinesKept)
                {
                    _lines.Dequeue();
                }

                foreach (var watcher in _watchers)
                {
                    watcher.Writer.TryWrite(line);
                }
            }
        }

        public List<LogLine> Snapshot()
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }

        public async IAsyncEnumerable<LogLine> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            // Bounded so that a slow dashboard tab cannot hold an unbounded backlog; it misses lines instead.
            var channel = Channel.CreateBounded<LogLine>(new BoundedChannelOptions(MaxLinesKept) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
            lock (_gate)
            {
                foreach (var line in _lines)
                {
                    channel.Writer.TryWrite(line);
                }

                _watchers.Add(channel);
            }

            try
            {
                await foreach (var line in channel.Reader.ReadAllAsync(cancellationToken))
                {
                    yield return line;
                }
            }
            finally
            {
                lock (_gate)
                {
                    _watchers.Remove(channel);
                }
            }
        }
    }
}
