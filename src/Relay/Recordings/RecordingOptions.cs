using System.ComponentModel.DataAnnotations;

namespace PgVideoChat.Relay.Recordings;

/// <summary>Settings of recordings (configuration section <c>Relay:Recordings</c>).</summary>
internal sealed class RecordingOptions
{
    /// <summary>How long a recording is kept after it stops; then its rows and frames are deleted.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long an export link stays valid (a link carries a ticket instead of the session token).</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan ExportLinkLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
