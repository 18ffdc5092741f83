using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PgVideoChat.Hosting.LocalPostgres.ReplicationSlots;

namespace Aspire.Hosting;

/// <summary>Shows a database's replication slots in the dashboard, whichever integration runs its server.</summary>
public static class ReplicationSlotBuilderExtensions
{
    /// <summary>
    /// Publishes every replication slot of the database as a resource under its server (or under the database when
    /// it has no parent), refreshed every <paramref name="interval"/> (default 1 s), with a command that drops an
    /// inactive slot after confirmation.
    /// </summary>
    public static IResourceBuilder<T> WithReplicationSlotResources<T>(this IResourceBuilder<T> database, TimeSpan? interval = null)
        where T : IResourceWithConnectionString
    {
        ArgumentNullException.ThrowIfNull(database);
        var every = interval ?? TimeSpan.FromSeconds(1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, TimeSpan.Zero, nameof(interval));
        IResource parent = database.Resource is IResourceWithParent child ? child.Parent : database.Resource;
        return database.OnInitializeResource((resource, @event, cancellationToken) =>
        {
            var stopping = @event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            var sampler = new ReplicationSlotSampler(resource, parent, every, @event.Notifications, @event.Services.GetRequiredService<ResourceLoggerService>());
            _ = Task.Run(() => sampler.RunAsync(stopping), CancellationToken.None);
            return Task.CompletedTask;
        });
    }
}
