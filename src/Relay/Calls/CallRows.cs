using System.Text.Json;
using Npgsql;
using PgVideoChat.Protocol;

namespace PgVideoChat.Relay.Calls;

/// <summary>Reads call rows (from a query or from the slot) into <see cref="CallSnapshot"/>.</summary>
internal static class CallRows
{
    public const string SelectColumns = "id, kind, state, created_by, version, updated_at, participants::text, recording::text";

    public static IReadOnlyList<CallParticipant> ParseParticipants(string json)
        => JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.ListCallParticipant) ?? [];

    public static CallRecording? ParseRecording(string? json)
        => json is null ? null : JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.CallRecording);

    public static CallSnapshot Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3),
        reader.GetInt64(4),
        DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc),
        ParseParticipants(reader.GetString(6)),
        ParseRecording(reader.IsDBNull(7) ? null : reader.GetString(7)));

    /// <summary>Open calls, for the directory at start and after a resync.</summary>
    public static async Task LoadOpenCallsAsync(NpgsqlDataSource dataSource, CallDirectory directory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(directory);
        await using var command = dataSource.CreateCommand($"SELECT {SelectColumns} FROM calls WHERE state IN ('ringing', 'active')");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            directory.Apply(Read(reader));
        }
    }
}
