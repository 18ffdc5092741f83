using PgVideoChat.Protocol;

namespace PgVideoChat.LoadTests.Stats;

/// <summary>
/// A span of capture time whose frames are counted (NBomber's measured run after warm-up, or one capacity level).
/// Frames are attributed by their capture timestamp, so a frame sent inside the window counts even if it arrives after.
/// </summary>
public sealed class MeasurementWindow(string name, long startMicros, byte id = 1)
{
    private volatile bool _frozen;
    private long _endMicros = long.MaxValue;
    private long _setupOk;
    private long _setupFailed;

    public string Name { get; } = name;

    /// <summary>The id senders stamp into their <see cref="SentLog"/>.</summary>
    public byte Id { get; } = id;

    /// <summary>Frozen: its figures are final and nothing more is counted in it.</summary>
    public bool Frozen
    {
        get => _frozen;
        set => _frozen = value;
    }

    public long StartMicros { get; } = startMicros;

    public long EndMicros => Interlocked.Read(ref _endMicros);

    public KindStats Video { get; } = new();

    public KindStats Audio { get; } = new();

    /// <summary>Call set-up (sign-in, connect, invite, accept, until the call is active for everyone), started inside the window.</summary>
    public LatencyStats Setup { get; } = new();

    public long SetupOk => Interlocked.Read(ref _setupOk);

    public long SetupFailed => Interlocked.Read(ref _setupFailed);

    public TimeSpan Duration => TimeSpan.FromTicks(((EndMicros == long.MaxValue ? Clock.NowMicros : EndMicros) - StartMicros) * 10);

    public KindStats For(MediaKind kind) => kind == MediaKind.Video ? Video : Audio;

    public bool Contains(long captureMicros) => captureMicros >= StartMicros && captureMicros < EndMicros;

    public void Close(long endMicros) => Interlocked.Exchange(ref _endMicros, endMicros);

    public void OnSetup(long micros, bool ok)
    {
        if (ok)
        {
            Interlocked.Increment(ref _setupOk);
            Setup.Record(micros);
        }
        else
        {
            Interlocked.Increment(ref _setupFailed);
        }
    }
}
