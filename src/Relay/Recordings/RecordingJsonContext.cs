using System.Text.Json.Serialization;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Recordings;

/// <summary>Source-generated JSON of the recordings API (camelCase, as the protocol's).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RecordingList))]
[JsonSerializable(typeof(RecordingSummary))]
[JsonSerializable(typeof(ExportLink))]
[JsonSerializable(typeof(List<UserSummary>))]
internal sealed partial class RecordingJsonContext : JsonSerializerContext;
