using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace PgVideoChat.TestSupport;

/// <summary>
/// Waits for a resource's snapshot to match, bounded: Aspire's own waits run until cancelled, and a test that hangs
/// says nothing, while one that times out here names the state the resource is stuck in and its last lines.
/// </summary>
internal static class ResourceWait
{
    public static async Task<CustomResourceSnapshot> UntilAsync(
        DistributedApplication app, string name, Func<CustomResourceSnapshot, bool> predicate, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            var resourceEvent = await app.ResourceNotifications.WaitForResourceAsync(name, e => predicate(e.Snapshot), bounded.Token);
            return resourceEvent.Snapshot;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"'{name}' did not {what} within {timeout.TotalSeconds:F0} s: it is {Describe(app, name)}.\n{Tail(app, name)}"));
        }
    }

    /// <summary>The resource's current state for a message.</summary>
    public static string Describe(DistributedApplication app, string name) =>
        app.ResourceNotifications.TryGetCurrentState(name, out var resourceEvent) ? resourceEvent.Snapshot.Describe() : "not known to the app model";

    /// <summary>The resource's last lines when the app collects them, for a message.</summary>
    public static string Tail(DistributedApplication app, string name) =>
        app.Services.GetService<ResourceLogCollector>() is { } logs ? $"Last lines of {name}:\n{logs.Tail(name)}" : string.Empty;
}
