namespace PgVideoChat.E2ETests;

/// <summary>A failed browser scenario, with where its screenshots and logs were saved.</summary>
public sealed class E2EFailureException : Exception
{
    public E2EFailureException()
    {
    }

    public E2EFailureException(string message)
        : base(message)
    {
    }

    public E2EFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
