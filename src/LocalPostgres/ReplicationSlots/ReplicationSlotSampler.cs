using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PgVideoChat.Hosting.LocalPostgres.ReplicationSlots;

/// <summary>
/// Reads <c>pg_replication_slots</c> every <see cref="Interval"/> and publishes each slot as a resource under the
/// server: its state (Active; Inactive, a warning while its retained WAL grows; Lost), its live properties, and a
/// command that drops it once inactive.
/// </summary>
internal sealed partial class ReplicationSlotSampler(
    IResourceWithConnectionString database,
    IResource displayParent,
    TimeSpan interval,
    ResourceNotificationService notifications,
    ResourceLoggerService loggers)
{
    /// <summary>Samples of retained WAL compared to call it growing: it must have grown over this many seconds' worth.</summary>
    private const int GrowthSamples = 3;

    private const string ParentNameProperty = "resource.parentName";

    private readonly Dictionary<string, SlotState> _slots = new(StringComparer.Ordinal);

    public TimeSpan Interval => interval;

    public async Task RunAsync(CancellationToken stopping)
    {
        var logger = loggers.GetLogger(database);
        using var timer = new PeriodicTimer(interval);
        try
        {
            await SampleUntilStoppedAsync(timer, logger, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task SampleUntilStoppedAsync(PeriodicTimer timer, ILogger logger, CancellationToken stopping)
    {
        var failing = false;
        do
        {
            if (!IsRunning())
            {
                continue;
            }

            try
            {
                var connectionString = await database.ConnectionStringExpression.GetValueAsync(stopping).ConfigureAwait(false);
                var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3, ApplicationName = "aspire-slot-sampler" };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(stopping).ConfigureAwait(false);
                var rows = await ReplicationSlotRow.ReadAllAsync(connection, stopping).ConfigureAwait(false);
                await PublishAsync(rows).ConfigureAwait(false);
                failing = false;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stopping.IsCancellationRequested)
            {
                // A server that is restarting: say it once, not every second.
                if (!failing)
                {
                    Log.SampleFailed(logger, ex.Message);
                    failing = true;
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
    }

    private bool IsRunning()
        => notifications.TryGetCurrentState(database.Name, out var current) && current.Snapshot.State?.Text == KnownResourceStates.Running;

    private async Task PublishAsync(IReadOnlyList<ReplicationSlotRow> rows)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            seen.Add(row.Name);
            if (!_slots.TryGetValue(row.Name, out var slot))
            {
                // A slot that is dropped and made again keeps its resource: the notification service binds a name to one instance.
                slot = new SlotState(NewResource(row.Name));
                _slots.Add(row.Name, slot);
            }

            slot.Observe(row.RetainedBytes);
            var (state, style) = StateOf(row, slot.RetainedWalGrowing);
            await notifications.PublishUpdateAsync(slot.Resource, s => s with
            {
                ResourceType = "ReplicationSlot",
                State = new ResourceStateSnapshot(state, style),
                IsHidden = false,
                CreationTimeStamp = s.CreationTimeStamp ?? DateTime.UtcNow,
                StartTimeStamp = s.StartTimeStamp ?? DateTime.UtcNow,
                StopTimeStamp = null,
                Properties = PropertiesOf(row),
                Relationships = [new RelationshipSnapshot(displayParent.Name, "Parent")],
            }).ConfigureAwait(false);
        }

        foreach (var (name, slot) in _slots)
        {
            if (!seen.Contains(name) && !slot.Dropped)
            {
                slot.Dropped = true;
                await notifications.PublishUpdateAsync(slot.Resource, s => s with
                {
                    State = new ResourceStateSnapshot("Dropped", KnownResourceStateStyles.Info),
                    StopTimeStamp = DateTime.UtcNow,
                    IsHidden = true,
                }).ConfigureAwait(false);
            }
            else if (seen.Contains(name))
            {
                slot.Dropped = false;
            }
        }
    }

    private ReplicationSlotResource NewResource(string slotName)
    {
        var resource = new ReplicationSlotResource(slotName, database);
        resource.Annotations.Add(new ResourceCommandAnnotation(
            name: ReplicationSlotProperties.DropCommand,
            displayName: "Drop slot",
            updateState: static context => IsInactive(context.ResourceSnapshot) ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            executeCommand: async context =>
            {
                var connectionString = await database.ConnectionStringExpression.GetValueAsync(context.CancellationToken).ConfigureAwait(false);
                return await ReplicationSlotCommands.DropInactiveAsync(connectionString!, slotName, context.CancellationToken).ConfigureAwait(false)
                    ? CommandResults.Success()
                    : CommandResults.Failure($"{slotName} is active (its consumer streams from it) or already gone: stop its consumer first.");
            },
            displayDescription: "Drops this inactive slot: the WAL it holds is released, and whatever it had not yet delivered is gone.",
            parameter: null,
            confirmationMessage: $"Drop the replication slot {slotName}? The WAL it retains is released; changes its consumer has not read are lost to it.",
            iconName: "Delete",
            iconVariant: IconVariant.Regular,
            isHighlighted: false));
        return resource;
    }

    private static bool IsInactive(CustomResourceSnapshot snapshot)
        => snapshot.Properties.FirstOrDefault(p => p.Name == ReplicationSlotProperties.Active)?.Value is false;

    private static (string State, string Style) StateOf(ReplicationSlotRow row, bool retainedGrowing) => row switch
    {
        { WalStatus: "lost" } => ("Lost", KnownResourceStateStyles.Error),
        { Active: true, WalStatus: "unreserved" } => ("Active, WAL unreserved", KnownResourceStateStyles.Warn),
        { Active: true } => ("Active", KnownResourceStateStyles.Success),
        _ when retainedGrowing => ("Inactive, retaining WAL", KnownResourceStateStyles.Warn),
        _ => ("Inactive", KnownResourceStateStyles.Info),
    };

    private ImmutableArray<ResourcePropertySnapshot> PropertiesOf(ReplicationSlotRow row) =>
    [
        new(ReplicationSlotProperties.Active, row.Active) { DisplayName = "Active", IsHighlighted = true },
        new(ReplicationSlotProperties.WalStatus, row.WalStatus) { DisplayName = "WAL status", IsHighlighted = true },
        new(ReplicationSlotProperties.LagBytes, row.LagBytes) { DisplayName = "Lag (bytes behind pg_current_wal_lsn)", IsHighlighted = true },
        new(ReplicationSlotProperties.RetainedWalBytes, row.RetainedBytes) { DisplayName = "Retained WAL (bytes since restart_lsn)", IsHighlighted = true },
        new(ReplicationSlotProperties.SafeWalSize, row.SafeWalSize) { DisplayName = "safe_wal_size (bytes before invalidation)" },
        new("slot.active_pid", row.ActivePid?.ToString(CultureInfo.InvariantCulture)) { DisplayName = "Walsender pid" },
        new("slot.type", row.SlotType) { DisplayName = "Type" },
        new("slot.plugin", row.Plugin) { DisplayName = "Plugin" },
        new("slot.restart_lsn", row.RestartLsn) { DisplayName = "restart_lsn" },
        new("slot.confirmed_flush_lsn", row.ConfirmedFlushLsn) { DisplayName = "confirmed_flush_lsn" },
        new("slot.temporary", row.Temporary) { DisplayName = "Temporary" },
        // The dashboard nests a resource under the one this property names (the server's DCP instance name).
        new(ParentNameProperty, notifications.TryGetCurrentState(displayParent.Name, out var parent) ? parent.ResourceId : displayParent.Name),
    ];

    private sealed class SlotState(ReplicationSlotResource resource)
    {
        private readonly Queue<long?> _retained = new();

        public ReplicationSlotResource Resource { get; } = resource;

        public bool Dropped { get; set; }

        public bool RetainedWalGrowing { get; private set; }

        public void Observe(long? retained)
        {
            _retained.Enqueue(retained);
            if (_retained.Count > GrowthSamples + 1)
            {
                _retained.Dequeue();
            }

            RetainedWalGrowing = _retained.Count > GrowthSamples && _retained.Peek() is { } first && retained is { } last && last > first;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Cannot read the replication slots: {Reason}")]
        public static partial void SampleFailed(ILogger logger, string reason);
    }
}
