using System.Text.Json;

namespace PgVideoChat.Protocol.Client;

/// <summary>The relay's <c>ack</c> or <c>error</c> for one request.</summary>
/// <param name="Message">The whole reply, detached from the receive buffer.</param>
public readonly record struct RelayReply(JsonElement Message)
{
    public bool Ok => Type == "ack";

    public string? Type => String("type");

    /// <summary>The <c>error</c>'s code (<see cref="ErrorCodes"/>); null for an <c>ack</c>.</summary>
    public string? Code => String("code");

    public string? ErrorMessage => Ok ? null : String("message");

    /// <summary>The call an <c>ack</c> of <c>call.invite</c> created.</summary>
    public long? CallId => Int64("callId");

    /// <summary>The stored row an <c>ack</c> of <c>chat.send</c> names.</summary>
    public long? Id => Int64("id");

    public override string ToString() => Message.ToString();

    private string? String(string name)
        => Message.ValueKind == JsonValueKind.Object && Message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private long? Int64(string name)
        => Message.ValueKind == JsonValueKind.Object && Message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;
}
