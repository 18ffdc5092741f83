using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace PgVideoChat.Hosting.Orchestration;

/// <summary>Current snapshots of every resource and a stream of their changes (Aspire's service of the same name).</summary>
public sealed class ResourceNotificationService
{
    private readonly ConcurrentDictionary<string, ResourceSnapshot> _snapshots = new();
    private readonly List<Channel<ResourceSnapshot>> _watchers = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<ResourceSnapshot> Snapshots => [.. _snapshots.Values.OrderBy(s => s.Name, StringComparer.Ordinal)];

    public ResourceSnapshot? TryGet(string name) => _snapshots.GetValueOrDefault(name);

    internal void Publish(ResourceSnapshot snapshot)
    {
        lock (_gate)
        {
            _snapshots[snapshot.Name] = snapshot;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(snapshot);
            }
        }
    }

    internal ResourceSnapshot Update(string name, Func<ResourceSnapshot, ResourceSnapshot> change)
    {
        lock (_gate)
        {
            var updated = change(_snapshots[name]);
            Publish(updated);
            return updated;
        }
    }

    /// <summary>Every snapshot now, then every change, until cancelled.</summary>
    public async IAsyncEnumerable<ResourceSnapshot> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<ResourceSnapshot>(new UnboundedChannelOptions { SingleReader = true });
        lock (_gate)
        {
            foreach (var snapshot in _snapshots.Values)
            {
                channel.Writer.TryWrite(snapshot);
            }

            _watchers.Add(channel);
        }

        try
        {
            await foreach (var snapshot in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return snapshot;
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

    /// <summary>Waits until the resource satisfies <paramref name="predicate"/>; fails if it ends first.</summary>
    public async Task<ResourceSnapshot> WaitForResourceAsync(string name, Func<ResourceSnapshot, bool> predicate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        if (!_snapshots.ContainsKey(name))
        {
            throw new ArgumentException($"There is no resource named '{name}'.", nameof(name));
        }

        await foreach (var snapshot in WatchAsync(cancellationToken))
        {
            if (snapshot.Name != name)
            {
                continue;
            }

            if (predicate(snapshot))
            {
                return snapshot;
            }

            if (ResourceStates.IsTerminal(snapshot.State))
            {
                throw new DistributedApplicationException($"Resource '{name}' is {snapshot.State}{(snapshot.Message is null ? string.Empty : ": " + snapshot.Message)}");
            }
        }

        throw new OperationCanceledException(cancellationToken);
    }

    public Task<ResourceSnapshot> WaitForResourceHealthyAsync(string name, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(name, s => s.IsHealthy, cancellationToken);

    public Task<ResourceSnapshot> WaitForResourceAsync(string name, string state, CancellationToken cancellationToken = default) =>
        WaitForResourceAsync(name, s => s.State == state, cancellationToken);
}
