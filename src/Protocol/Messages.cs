using System.Text.Json.Serialization;

namespace PgVideoChat.Protocol;

/// <summary>A signed-in user as other clients see them.</summary>
public sealed record UserSummary(long UserId, string DisplayName);

/// <summary>One participant of a call.</summary>
public sealed record CallParticipant(long UserId, string DisplayName, string State, bool Audio, bool Video);

/// <summary>Who records a call, since when (every participant sees it: their consent is informed).</summary>
public sealed record CallRecording(long RecordingId, long StartedBy, string StartedByName, DateTime StartedAt);

/// <summary>
/// The full state of a call (the <c>call</c> message without its <c>type</c>; what clients read it into).
/// <paramref name="Recording"/> is null while nobody records the call.
/// </summary>
public record CallSnapshot(
    long CallId,
    string Kind,
    string State,
    long CreatedBy,
    long Version,
    DateTime UpdatedAt,
    IReadOnlyList<CallParticipant> Participants,
    CallRecording? Recording = null);

/// <summary>One chat message (the <c>chat</c> message without its <c>type</c>; what clients read it into).</summary>
public record ChatEntry(
    long Id,
    long? CallId,
    long? To,
    long From,
    string FromName,
    string Text,
    string? ClientMsgId,
    DateTime SentAt);

/// <summary>The limits a relay announces in <c>hello</c>.</summary>
public sealed record RelayLimits(int MaxVideoFrameBytes, int MaxAudioFrameBytes, int MaxVideoFps, int MaxAudioFps)
{
    public static RelayLimits Default { get; } = new(
        ProtocolLimits.MaxVideoFrameBytes, ProtocolLimits.MaxAudioFrameBytes, ProtocolLimits.MaxVideoFps, ProtocolLimits.MaxAudioFps);
}

/// <summary>The first message on every connection.</summary>
public sealed record HelloMessage(
    int Protocol,
    string RelayId,
    UserSummary User,
    IReadOnlyList<UserSummary> Online,
    IReadOnlyList<CallSnapshot> Calls,
    IReadOnlyList<ChatEntry> Chat,
    RelayLimits Limits)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "hello";
}

/// <summary>Someone came online or went offline.</summary>
public sealed record PresenceMessage(long UserId, string DisplayName, bool Online)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "presence";
}

/// <summary>The full current state of a call: its snapshot, with the message's <c>type</c> first.</summary>
public sealed record CallMessage : CallSnapshot
{
    private CallMessage(CallSnapshot call)
        : base(call)
    {
    }

    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "call";

    public static CallMessage Create(CallSnapshot call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return new(call);
    }
}

/// <summary>A chat message: its entry, with the message's <c>type</c> first.</summary>
public sealed record ChatMessage : ChatEntry
{
    private ChatMessage(ChatEntry chat)
        : base(chat)
    {
    }

    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "chat";

    public static ChatMessage Create(ChatEntry chat)
    {
        ArgumentNullException.ThrowIfNull(chat);
        return new(chat);
    }
}

/// <summary>
/// The relay asks a sender to keep its video in this call under the caps of <see cref="Level"/> (0: its own choice
/// again), because the sender's frames were being dropped (docs/protocol.md, <c>media.quality</c>).
/// </summary>
public sealed record MediaQualityMessage(
    long CallId,
    int Level,
    double? MaxJpegQuality,
    int? MaxWidth,
    int? MaxHeight,
    int? MaxFps,
    string Reason,
    string RelayId)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "media.quality";

    public static MediaQualityMessage Create(long callId, int level, string reason, string relayId)
    {
        var caps = MediaQuality.Caps(level);
        return new(callId, level, caps.MaxJpegQuality, caps.MaxWidth, caps.MaxHeight, caps.MaxFps, reason, relayId);
    }
}

/// <summary>The reply to a request that carried a <c>rid</c>.</summary>
public sealed record AckMessage(
    string Rid,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? CallId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Id = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ChatEntry>? Messages = null)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "ack";
}

/// <summary>A request that was not carried out; the connection stays open.</summary>
public sealed record ErrorMessage(
    string? Rid,
    string Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RetryAfterMs = null)
{
    [JsonPropertyOrder(-1)]
    public string Type { get; init; } = "error";
}

/// <summary>Source-generated JSON for every message of the protocol (camelCase, as on the wire).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(HelloMessage))]
[JsonSerializable(typeof(PresenceMessage))]
[JsonSerializable(typeof(CallMessage))]
[JsonSerializable(typeof(ChatMessage))]
[JsonSerializable(typeof(AckMessage))]
[JsonSerializable(typeof(MediaQualityMessage))]
[JsonSerializable(typeof(ErrorMessage))]
[JsonSerializable(typeof(CallSnapshot))]
[JsonSerializable(typeof(List<CallParticipant>))]
[JsonSerializable(typeof(CallRecording))]
[JsonSerializable(typeof(SignInRequest))]
[JsonSerializable(typeof(SignInResponse))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;

/// <summary><c>POST /api/sessions</c> body.</summary>
public sealed record SignInRequest(string? DisplayName);

/// <summary><c>POST /api/sessions</c> response.</summary>
public sealed record SignInResponse(long UserId, string DisplayName, string Token, DateTime ExpiresAt);
