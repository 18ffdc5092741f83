namespace PgVideoChat.Hosting.ApplicationModel;

/// <summary>What an environment callback gets (Aspire's type of the same name, plus the replica it is for).</summary>
public sealed class EnvironmentCallbackContext(IDictionary<string, string> environmentVariables, int replicaIndex, string instanceName)
{
    public IDictionary<string, string> EnvironmentVariables { get; } = environmentVariables;

    /// <summary>0 … replicas − 1.</summary>
    public int ReplicaIndex { get; } = replicaIndex;

    /// <summary>The resource name, or <c>name-i</c> for replica i when the project has several.</summary>
    public string InstanceName { get; } = instanceName;
}
