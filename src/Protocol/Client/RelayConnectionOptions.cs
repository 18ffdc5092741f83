namespace PgVideoChat.Protocol.Client;

/// <summary>How a <see cref="RelayConnection"/> connects and how long it waits.</summary>
public sealed record RelayConnectionOptions
{
    /// <summary>False connects without ever reading: a stalled consumer, whose back-pressure reaches the relay.</summary>
    public bool Read { get; init; } = true;

    /// <summary>The socket's receive and send buffer; small ones make a stalled reader felt sooner.</summary>
    public int? SocketBufferBytes { get; init; }

    public TimeSpan? KeepAliveInterval { get; init; }

    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The close frame's reason when this side ends the connection.</summary>
    public string CloseReason { get; init; } = "bye";
}
