namespace PgVideoChat.Protocol.Client;

/// <summary>
/// What a <see cref="RelayConnection"/> received, called on its receive loop in arrival order: keep it short, and copy
/// what must outlive the call (the spans point into the loop's buffer).
/// </summary>
public interface IRelayConnectionObserver
{
    /// <summary>Every control message, replies and <c>hello</c> included; <paramref name="type"/> is null when it has none.</summary>
    void OnControl(RelayConnection connection, string? type, ReadOnlySpan<byte> json);

    /// <summary>A media frame whose header parsed; <paramref name="messageBytes"/> counts header and payload.</summary>
    void OnFrame(RelayConnection connection, in MediaFrameHeader header, ReadOnlySpan<byte> payload, int messageBytes);

    /// <summary>A binary message from the relay whose header did not parse (a relay defect).</summary>
    void OnMalformedFrame(RelayConnection connection, string reason);

    /// <summary>The receive loop ended; <see cref="RelayConnection.CloseStatus"/> says how.</summary>
    void OnClosed(RelayConnection connection);
}
