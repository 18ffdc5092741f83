namespace PgVideoChat.Hosting;

/// <summary>
/// A failure the user can fix. The message is one line that names the cause and the fix; the orchestrator
/// prints it without a stack trace.
/// </summary>
public sealed class DistributedApplicationException : Exception
{
    public DistributedApplicationException()
    {
    }

    public DistributedApplicationException(string message)
        : base(message)
    {
    }

    public DistributedApplicationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
