namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// A replication slot of a database, shown under its server in the dashboard. Slots come and go while the app runs
/// (each relay makes its own), so these resources are not in the app model: the sampler publishes them as it finds them.
/// </summary>
public sealed class ReplicationSlotResource : Resource
{
    internal ReplicationSlotResource(string slotName, IResourceWithConnectionString database) : base(slotName)
    {
        ArgumentNullException.ThrowIfNull(database);
        SlotName = slotName;
        Database = database;
    }

    public string SlotName { get; }

    /// <summary>The database whose connection reads and drops the slot.</summary>
    public IResourceWithConnectionString Database { get; }
}
