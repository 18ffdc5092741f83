using System.Buffers.Binary;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using PgVideoChat.Protocol;
using PgVideoChat.Relay.Auth;
using PgVideoChat.Relay.Schema;

namespace PgVideoChat.Relay.Recordings;

/// <summary>
/// <c>/api/recordings</c>: list, read, replay, export and delete the recordings of calls the user took part in
/// (docs/recordings.md). Every endpoint but the export link takes the session token as a bearer token; a recording
/// the user may not see answers 404 exactly like one that does not exist.
/// </summary>
internal static class RecordingEndpoints
{
    public const string CorsPolicyName = "relay-recordings";

    /// <summary>The replay stream's media type: length-prefixed media frames on the recording's timeline.</summary>
    public const string ReplayMediaType = "application/vnd.pgvideochat.replay";

    public const string RecordingActive = ProblemResponses.TypePrefix + "recording-active";

    public static IEndpointRouteBuilder MapRecordingEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/recordings").RequireCors(CorsPolicyName);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:long}", GetAsync);
        group.MapGet("/{id:long}/media", ReplayAsync);
        group.MapDelete("/{id:long}", DeleteAsync);
        group.MapPost("/{id:long}/export", ExportLinkAsync);
        group.MapGet("/{id:long}/export.avi", RecordingExport.ExportAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<RecordingList>, ProblemHttpResult>> ListAsync(
        HttpRequest request, SessionTokenService tokens, RecordingStore store, CancellationToken cancellationToken)
    {
        if (Authenticate(request, tokens) is not { } userId)
        {
            return Unauthorized();
        }

        return TypedResults.Ok(new RecordingList(await store.ListAsync(userId, cancellationToken)));
    }

    private static async Task<Results<Ok<RecordingSummary>, ProblemHttpResult>> GetAsync(
        long id, HttpRequest request, SessionTokenService tokens, RecordingStore store, CancellationToken cancellationToken)
    {
        if (Authenticate(request, tokens) is not { } userId)
        {
            return Unauthorized();
        }

        return await store.FindAsync(id, userId, cancellationToken) is { } recording ? TypedResults.Ok(recording) : NotFound(id);
    }

    /// <summary>
    /// The recording's frames from <c>fromMs</c> on, each a 4-byte big-endian length and a media frame as on the
    /// WebSocket whose capture time is its place on the timeline (µs since the recording started). Written as the
    /// client reads: the stream's flow control is the only buffer beyond one page of rows.
    /// </summary>
    private static async Task<IResult> ReplayAsync(
        long id, long? fromMs, HttpContext context, SessionTokenService tokens, RecordingStore store, RecordingFrames frames, CancellationToken cancellationToken)
    {
        if (Authenticate(context.Request, tokens) is not { } userId)
        {
            return Unauthorized();
        }

        if (fromMs is < 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, type: ProblemResponses.InvalidRequest, title: "Invalid fromMs", detail: "fromMs must be 0 or more.");
        }

        if (await store.FindAsync(id, userId, cancellationToken) is not { } recording)
        {
            return NotFound(id);
        }

        var response = context.Response;
        response.ContentType = ReplayMediaType;
        response.Headers.CacheControl = "no-store";
        var writer = response.BodyWriter;
        await foreach (var frame in frames.ReadAsync(id, (fromMs ?? 0) * 1000, cancellationToken))
        {
            var info = frame.Info;
            var header = info.Kind == MediaKind.Video
                ? MediaFrameHeader.Video(0, recording.CallId, info.TimeMicros, (ushort)info.A, (ushort)info.B, info.SenderId)
                : MediaFrameHeader.Audio(0, recording.CallId, info.TimeMicros, (ushort)info.A, (uint)info.B, info.SenderId);
            var span = writer.GetSpan(4 + MediaFrameHeader.Size);
            BinaryPrimitives.WriteUInt32BigEndian(span, (uint)(MediaFrameHeader.Size + frame.Payload.Length));
            header.Write(span[4..]);
            writer.Advance(4 + MediaFrameHeader.Size);
            await writer.WriteAsync(frame.Payload, cancellationToken);
        }

        await writer.CompleteAsync();
        return TypedResults.Empty;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        long id, HttpRequest request, SessionTokenService tokens, RecordingStore store, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (Authenticate(request, tokens) is not { } userId)
        {
            return Unauthorized();
        }

        if (await store.FindAsync(id, userId, cancellationToken) is not { } recording)
        {
            return NotFound(id);
        }

        if (recording.Active)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, type: RecordingActive, title: "The recording is still running", detail: $"Stop recording call {recording.CallId} first.");
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // The rotation copies into recordings under this lock: a recording is not deleted in the middle of a copy.
        await using (var takeLock = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection))
        {
            takeLock.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLocks.FramePartitionRotation });
            await takeLock.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await RecordingArchive.DeleteAsync(connection, id, cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
            unlock.Parameters.Add(new NpgsqlParameter { Value = AdvisoryLocks.FramePartitionRotation });
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<ExportLink>, ProblemHttpResult>> ExportLinkAsync(
        long id, HttpRequest request, SessionTokenService tokens, RecordingStore store, IOptions<RelayOptions> options, CancellationToken cancellationToken)
    {
        if (Authenticate(request, tokens) is not { } userId)
        {
            return Unauthorized();
        }

        if (await store.FindAsync(id, userId, cancellationToken) is null)
        {
            return NotFound(id);
        }

        var (ticket, expiresAt) = tokens.IssueTicket(ExportPurpose(id), userId, options.Value.Recordings.ExportLinkLifetime);
        var url = string.Create(CultureInfo.InvariantCulture, $"/api/recordings/{id}/export.avi?ticket={Uri.EscapeDataString(ticket)}");
        return TypedResults.Ok(new ExportLink(url, expiresAt.UtcDateTime));
    }

    /// <summary>What an export ticket is for: one recording.</summary>
    public static string ExportPurpose(long recordingId) => string.Create(CultureInfo.InvariantCulture, $"export.{recordingId}");

    private static long? Authenticate(HttpRequest request, SessionTokenService tokens)
        => tokens.TryVerifyBearer(request, out var identity, out _) ? identity.UserId : null;

    public static ProblemHttpResult Unauthorized() => TypedResults.Problem(
        statusCode: StatusCodes.Status401Unauthorized, type: ProblemResponses.Unauthorized, title: "Sign in again", detail: "A valid session token is required (Authorization: Bearer …).");

    public static ProblemHttpResult NotFound(long id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound, type: ProblemResponses.NotFound, title: "No such recording", detail: $"Recording {id} does not exist or you did not take part in its call.");
}
