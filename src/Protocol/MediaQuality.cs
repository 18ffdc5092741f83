namespace PgVideoChat.Protocol;

/// <summary>
/// The steps a relay asks a sender to take down when the sender's video does not get through (a receiver's queue
/// drops its frames, or the relay's slot falls behind): JPEG quality first, then resolution, then frame rate. Step 0
/// is the sender's own choice; each step keeps the caps of the ones before it, and a cap never raises what the sender
/// chose (docs/protocol.md, <c>media.quality</c>).
/// </summary>
public static class MediaQuality
{
    /// <summary>The lowest step.</summary>
    public const int MaxLevel = 3;

    private static readonly MediaQualityCaps[] Ladder =
    [
        new(0, null, null, null, null),
        new(1, 0.5, null, null, null),
        new(2, 0.5, 320, 180, null),
        new(3, 0.5, 320, 180, 8),
    ];

    /// <summary>The caps of <paramref name="level"/> (0 to <see cref="MaxLevel"/>).</summary>
    public static MediaQualityCaps Caps(int level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        return Ladder[level];
    }
}

/// <summary>What a sender keeps its video under at one step (null: no cap).</summary>
public sealed record MediaQualityCaps(int Level, double? MaxJpegQuality, int? MaxWidth, int? MaxHeight, int? MaxFps);
