using System.Globalization;
using PgVideoChat.Relay.Auth;
using PgVideoChat.Relay.Recordings.Export;

namespace PgVideoChat.Relay.Recordings;

/// <summary>
/// <c>GET /api/recordings/{id}/export.avi?ticket=…</c>: the recording as a Motion-JPEG AVI with PCM audio, which
/// common players open without an encoder on either side. The layout is planned from the frames' sizes first, so the
/// response has a Content-Length; the frames are then read again, page by page, and written as they are read.
/// </summary>
internal static class RecordingExport
{
    public static async Task<IResult> ExportAsync(
        long id, string? ticket, HttpContext context, SessionTokenService tokens, RecordingStore store, RecordingFrames frames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (tokens.VerifyTicket(RecordingEndpoints.ExportPurpose(id), ticket) is not { } userId)
        {
            return RecordingEndpoints.Unauthorized();
        }

        if (await store.FindAsync(id, userId, cancellationToken) is not { } recording)
        {
            return RecordingEndpoints.NotFound(id);
        }

        var infos = await frames.ReadInfoAsync(id, cancellationToken);
        // An active recording's duration is as of the summary; the frames read since may run a little past it.
        var duration = Math.Max(recording.DurationMs * 1000, infos.Count == 0 ? 0 : infos[^1].TimeMicros + 1);
        AviExportPlan plan;
        try
        {
            plan = new AviExportPlan(infos, duration, [.. recording.Participants.Select(static p => p.UserId)]);
        }
        catch (NotSupportedException ex)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        var response = context.Response;
        response.ContentType = "video/x-msvideo";
        response.ContentLength = plan.FileLength;
        response.Headers.ContentDisposition = string.Create(CultureInfo.InvariantCulture,
            $"attachment; filename=\"pgvideochat-recording-{id}-{recording.StartedAt:yyyyMMdd-HHmmss}.avi\"");
        // Only the frames the plan counted: an active recording goes on growing while it is exported.
        await MjpegAviWriter.WriteAsync(response.Body, plan, Take(frames.ReadAsync(id, 0, cancellationToken), infos.Count), cancellationToken);
        return TypedResults.Empty;
    }

    private static async IAsyncEnumerable<RecordedFrame> Take(IAsyncEnumerable<RecordedFrame> frames, int count)
    {
        if (count == 0)
        {
            yield break;
        }

        var taken = 0;
        await foreach (var frame in frames)
        {
            yield return frame;
            if (++taken == count)
            {
                yield break;
            }
        }
    }
}
