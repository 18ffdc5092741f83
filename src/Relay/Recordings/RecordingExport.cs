using Microsoft.AspNetCore.Http.HttpResults;
using PgVideoChat.Relay.Auth;

namespace PgVideoChat.Relay.Recordings;

/// <summary><c>GET /api/recordings/{id}/export.avi?ticket=…</c>: the recording as a Motion-JPEG AVI with PCM audio.</summary>
internal static class RecordingExport
{
    public static async Task<IResult> ExportAsync(
        long id, string? ticket, HttpContext context, SessionTokenService tokens, RecordingStore store, RecordingFrames frames, CancellationToken cancellationToken)
    {
        if (tokens.VerifyTicket(RecordingEndpoints.ExportPurpose(id), ticket) is not { } userId)
        {
            return RecordingEndpoints.Unauthorized();
        }

        if (await store.FindAsync(id, userId, cancellationToken) is null)
        {
            return RecordingEndpoints.NotFound(id);
        }

        _ = frames;
        _ = context;
        return TypedResults.StatusCode(StatusCodes.Status501NotImplemented);
    }
}
