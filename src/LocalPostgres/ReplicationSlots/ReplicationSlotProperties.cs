namespace Aspire.Hosting;

/// <summary>The names of a slot resource's properties and command, for tests and tools that read the dashboard's model.</summary>
public static class ReplicationSlotProperties
{
    public const string Active = "slot.active";
    public const string WalStatus = "slot.wal_status";
    public const string LagBytes = "slot.lag_bytes";
    public const string RetainedWalBytes = "slot.retained_wal_bytes";
    public const string SafeWalSize = "slot.safe_wal_size";
    public const string DropCommand = "drop-slot";
}
